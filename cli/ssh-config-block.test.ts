import { describe, expect, it } from 'vitest';
import { BEGIN, END, machineOfHost, renderBlock, replaceBlock, sshQuote } from './ssh-config-block';

const block = (names: string[]) =>
  renderBlock({ hosts: names.map((name) => ({ name, user: 'root' })), proxyCommand: 'hangar ssh --stdio %n', knownHosts: '/h/kh' });

describe('the ssh-config block', () => {
  it('has one Host per machine before the wildcard with the tunnel and the known_hosts', () => {
    const b = block(['web-2', 'web-1']);
    expect(b.startsWith(BEGIN)).toBe(true);
    expect(b.trimEnd().endsWith(END)).toBe(true);
    expect(b.indexOf('Host hangar.web-1')).toBeLessThan(b.indexOf('Host hangar.web-2'));
    expect(b.indexOf('Host hangar.web-2')).toBeLessThan(b.indexOf('Host hangar.*'));
    expect(b).toContain('  ProxyCommand hangar ssh --stdio %n\n');
    expect(b).toContain('  UserKnownHostsFile /h/kh\n');
  });

  it('is added to a config without one, keeping what was there', () => {
    expect(replaceBlock('', block(['a']))).toBe(block(['a']));
    const out = replaceBlock('Host other\n  User me', block(['a']));
    expect(out.startsWith('Host other\n  User me\n\n')).toBe(true);
    expect(out.endsWith(block(['a']))).toBe(true);
  });

  it('is rewritten in place on each run, nothing outside it touched', () => {
    const first = replaceBlock('Host before\n  Port 2\n', block(['a', 'b'])) + '\nHost after\n  Port 3\n';
    const second = replaceBlock(first, block(['c']));
    expect(second).toBe(`Host before\n  Port 2\n\n${block(['c'])}\nHost after\n  Port 3\n`);
    expect(second).not.toContain('hangar.a');
    expect(replaceBlock(second, block(['c']))).toBe(second);
  });

  it('refuses a config with a start marker and no end rather than eating the rest', () => {
    expect(() => replaceBlock(`${BEGIN}\nHost x\n`, block(['a']))).toThrow(/end/);
  });

  it('quotes paths with spaces and refuses quotes', () => {
    expect(sshQuote('/a b/c')).toBe('"/a b/c"');
    expect(sshQuote('/a/c')).toBe('/a/c');
    expect(() => sshQuote('/a"b')).toThrow();
  });

  it('takes the machine name from the host OpenSSH passes', () => {
    expect(machineOfHost('hangar.web-1')).toBe('web-1');
    expect(machineOfHost('web-1')).toBe('web-1');
  });
});
