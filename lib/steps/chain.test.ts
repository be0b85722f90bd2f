import { describe, expect, it } from 'vitest';
import { ChainError, parseChain, tokenize } from './chain';

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
