import { describe, expect, it } from 'vitest';
import { ChainError, parseChain, tokenize } from './chain';
import { parseChainFile } from './chain-file';

describe('chains', () => {
  it('parses the fingertip-style chain, filling in defaults', () => {
    expect(parseChain(tokenize('debian-12 + apt nginx curl + exec -- nginx -v'))).toEqual([
      { step: 'os.debian', args: { driver: 'nspawn', network: 'nat', memoryMib: 512 } },
      { step: 'apt', args: { packages: ['nginx', 'curl'] } },
      { step: 'exec', args: { argv: ['nginx', '-v'], timeoutS: 600 } },
    ]);
    expect(parseChain(['busybox', '+', 'file', '/etc/motd', 'hi there'])).toEqual([
      { step: 'os.busybox', args: { memoryMib: 256 } },
      { step: 'file', args: { path: '/etc/motd', content: 'hi there', mode: '644' } },
    ]);
  });

  it('says which step and field is wrong, and where a quote is left open', () => {
    expect(() => parseChain(tokenize('debian-12 + apt "nginx; rm -rf /"'))).toThrow(/apt: packages\.0: a Debian package name/);
    expect(() => parseChain(tokenize('debian-12 + nosuch x'))).toThrow('Unknown step "nosuch".');
    expect(() => parseChain(tokenize('apt nginx'))).toThrow(/Unknown base "apt"/);
    expect(() => parseChain(tokenize('debian-12 + + exec true'))).toThrow(/Empty step/);
    expect(() => parseChain(tokenize('busybox + os.debian'))).toThrow(/can only start a chain/);
    const err = (() => {
      try {
        tokenize('busybox +\nfile /x "open');
      } catch (e) {
        return e as ChainError;
      }
    })();
    expect(err?.at).toEqual({ line: 2, column: 9 });
  });
});

describe('chain files', () => {
  it('reads base and steps from YAML: lists as words, maps as arguments, scalars as one word', async () => {
    const steps = await parseChainFile(['# a recipe', 'base: debian-12', 'steps:', '  - apt: [nginx, curl]', '  - file: { path: /etc/motd, content: hello }', '  - service: nginx', '  - exec: [nginx, -v]', ''].join('\n'));
    expect(steps).toEqual([
      { step: 'os.debian', args: { driver: 'nspawn', network: 'nat', memoryMib: 512 } },
      { step: 'apt', args: { packages: ['nginx', 'curl'] } },
      { step: 'file', args: { path: '/etc/motd', content: 'hello', mode: '644' } },
      { step: 'service', args: { unit: 'nginx' } },
      { step: 'exec', args: { argv: ['nginx', '-v'], timeoutS: 600 } },
    ]);
    expect((await parseChainFile('base: { debian-12: { driver: qemu } }\n'))[0]).toEqual({ step: 'os.debian', args: { driver: 'qemu', network: 'nat', memoryMib: 512 } });
  });

  it('says the line and column of a syntax error, an unknown step and a wrong argument', async () => {
    await expect(parseChainFile('base: busybox\nsteps:\n  - exec: [a, b\n')).rejects.toThrow(/line \d+, column \d+/);
    await expect(parseChainFile('base: busybox\nsteps:\n  - nosuch: 1\n')).rejects.toThrow('Unknown step "nosuch" (line 3, column 5)');
    await expect(parseChainFile('base: busybox\nsteps:\n  - exec: []\n  - apt: ["bad name"]\n')).rejects.toThrow(/exec: argv: .* \(line 3, column 5\)/);
    await expect(parseChainFile('steps: []\n')).rejects.toThrow(/No base/);
  });
});
