import { describe, expect, it } from 'vitest';
import { ChainError, parseChain, tokenize } from './chain';
import { parseChainFile } from './chain-file';
import { chainFromValue } from './chain-value';

describe('chains', () => {
  it('parses the fingertip-style chain, filling in defaults', () => {
    expect(parseChain(tokenize('debian-12 + apt nginx curl + exec -- nginx -v'))).toEqual([
      { step: 'os.debian', args: { driver: 'nspawn', network: 'nat', memoryMib: 512 } },
      { step: 'apt', args: { packages: ['nginx', 'curl'] } },
      { step: 'exec', args: { argv: ['nginx', '-v'], timeoutS: 600 } },
    ]);
    expect(parseChain(tokenize('busybox + exec --timeout 2 -- sleep 30 + sh --timeout 5 -c "sleep 9"'))).toEqual([
      { step: 'os.busybox', args: { memoryMib: 256 } },
      { step: 'exec', args: { argv: ['sleep', '30'], timeoutS: 2 } },
      { step: 'sh', args: { script: 'sleep 9', timeoutS: 5 } },
    ]);
    expect(() => parseChain(tokenize('busybox + exec --timeout soon -- true'))).toThrow(/exec: timeoutS/);
    expect(() => parseChain(tokenize('busybox + exec --timeout 7200 -- true'))).toThrow(/exec: timeoutS/);
    expect(parseChain(['busybox', '+', 'file', '/etc/motd', 'hi there'])).toEqual([
      { step: 'os.busybox', args: { memoryMib: 256 } },
      { step: 'file', args: { path: '/etc/motd', content: 'hi there', mode: '644' } },
    ]);
  });

  it('starts a chain from an OCI image by its docker:// ref', () => {
    expect(parseChain(tokenize('docker://127.0.0.1:5000/alpine:3.20 --network private + exec -- apk --version'))).toEqual([
      { step: 'os.oci', args: { ref: 'docker://127.0.0.1:5000/alpine:3.20', network: 'private', memoryMib: 512 } },
      { step: 'exec', args: { argv: ['apk', '--version'], timeoutS: 600 } },
    ]);
    expect(() => parseChain(tokenize('os.oci alpine + exec -- true'))).toThrow('os.oci: ref: docker://HOST/NAME:TAG');
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

describe('chains from debian-13', () => {
  const d13 = { step: 'os.debian', args: { image: 'debian-13', driver: 'nspawn', network: 'nat', memoryMib: 512 } };
  it('debian-13 is os.debian with image debian-13; debian-12 keeps the arguments (and so the cache keys) it had', () => {
    expect(parseChain(tokenize('debian-13 + apt hello'))).toEqual([d13, { step: 'apt', args: { packages: ['hello'] } }]);
    expect(parseChain(tokenize('debian-13 --driver qemu'))[0].args).toEqual({ image: 'debian-13', driver: 'qemu', network: 'nat', memoryMib: 512 });
    expect(parseChain(tokenize('os.debian --image debian-13'))).toEqual([d13]);
    // debian-12 written any way is the same step with the same arguments: no image among them.
    const d12 = [{ step: 'os.debian', args: { driver: 'nspawn', network: 'nat', memoryMib: 512 } }];
    expect(parseChain(['debian-12'])).toEqual(d12);
    expect(parseChain(['os.debian', '--image', 'debian-12'])).toEqual(d12);
    expect(() => parseChain(['os.debian', '--image', 'debian-11'])).toThrow(/os\.debian: image: /);
    expect(() => parseChain(['debian-14'])).toThrow(/Unknown base "debian-14": a chain starts with busybox, debian-12, debian-13/);
  });

  it('in chain files and recipes: a name, a map of arguments, or { step, args }', async () => {
    expect((await parseChainFile('base: debian-13\nsteps:\n  - apt: [hello]\n'))[0]).toEqual(d13);
    expect((await parseChainFile('base: { debian-13: { driver: qemu } }\n'))[0].args).toMatchObject({ image: 'debian-13', driver: 'qemu' });
    expect(chainFromValue({ base: 'debian-13' })).toEqual([d13]);
    expect(chainFromValue([{ step: 'debian-13' }])).toEqual([d13]);
    expect(chainFromValue([{ step: 'os.debian', args: { image: 'debian-12' } }])[0].args).toEqual({ driver: 'nspawn', network: 'nat', memoryMib: 512 });
  });
});

describe('chain files', () => {
  it('reads base and steps from YAML: lists as words, maps as arguments, scalars as one word', async () => {
    const steps = await parseChainFile(
      [
        '# a recipe',
        'base: debian-12',
        'steps:',
        '  - apt: [nginx, curl]',
        '  - file: { path: /etc/motd, content: hello }',
        '  - service: nginx',
        '  - exec: [nginx, -v]',
        '',
      ].join('\n'),
    );
    expect(steps).toEqual([
      { step: 'os.debian', args: { driver: 'nspawn', network: 'nat', memoryMib: 512 } },
      { step: 'apt', args: { packages: ['nginx', 'curl'] } },
      { step: 'file', args: { path: '/etc/motd', content: 'hello', mode: '644' } },
      { step: 'service', args: { unit: 'nginx' } },
      { step: 'exec', args: { argv: ['nginx', '-v'], timeoutS: 600 } },
    ]);
    expect((await parseChainFile('base: { debian-12: { driver: qemu } }\n'))[0]).toEqual({
      step: 'os.debian',
      args: { driver: 'qemu', network: 'nat', memoryMib: 512 },
    });
  });

  it('says the line and column of a syntax error, an unknown step and a wrong argument', async () => {
    await expect(parseChainFile('base: busybox\nsteps:\n  - exec: [a, b\n')).rejects.toThrow(/line \d+, column \d+/);
    await expect(parseChainFile('base: busybox\nsteps:\n  - nosuch: 1\n')).rejects.toThrow('Unknown step "nosuch" (line 3, column 5)');
    await expect(parseChainFile('base: busybox\nsteps:\n  - exec: []\n  - apt: ["bad name"]\n')).rejects.toThrow(/exec: argv: .* \(line 3, column 5\)/);
    await expect(parseChainFile('steps: []\n')).rejects.toThrow(/No base/);
  });

  it('reads ssh, probe and directory-copy steps from words, and checks their fields', () => {
    const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx0 me@host';
    expect(
      parseChain(['debian-12', '+', 'ssh', '--user', 'dev', ...key.split(' '), '+', 'probe', 'http://localhost/', 'Welcome', 'home', '--timeout', '9']),
    ).toEqual([
      { step: 'os.debian', args: { driver: 'nspawn', network: 'nat', memoryMib: 512 } },
      { step: 'ssh', args: { user: 'dev', key } },
      { step: 'probe', args: { url: 'http://localhost/', expect: 'Welcome home', timeoutS: 9 } },
    ]);
    expect(parseChain(['debian-12', '+', 'ssh'])[1]).toEqual({ step: 'ssh', args: { user: 'root' } });
    expect(() => parseChain(['debian-12', '+', 'ssh', 'not-a-key'])).toThrow(/ssh: key: an OpenSSH public key line/);
    expect(() => parseChain(['debian-12', '+', 'probe', 'file:///etc/passwd'])).toThrow(/probe: url: an http/);
    expect(() => parseChain(['debian-12', '+', 'ssh', '--user', '../root'])).toThrow(/ssh: user: a user name/);
    // A directory copy carries an archive instead of content; both, or neither, is refused.
    expect(
      chainFromValue([
        { step: 'busybox', args: {} },
        { step: 'file', args: { path: '/srv', archive: 'H4sIAAAA' } },
      ])[1],
    ).toEqual({ step: 'file', args: { path: '/srv', archive: 'H4sIAAAA', mode: '644' } });
    expect(() => chainFromValue([{ step: 'busybox' }, { step: 'file', args: { path: '/srv', archive: 'H4sI', content: 'x' } }])).toThrow(
      /step 1: file: content: give the content, or an archive/,
    );
  });

  it('reads a TypeScript recipe export: the YAML shape or a list of { step, args }, errors naming the step', () => {
    expect(chainFromValue({ base: { 'debian-12': { driver: 'qemu' } }, steps: [{ apt: ['hello'] }, 'ssh', { exec: ['hello'] }] })).toEqual([
      { step: 'os.debian', args: { driver: 'qemu', network: 'nat', memoryMib: 512 } },
      { step: 'apt', args: { packages: ['hello'] } },
      { step: 'ssh', args: { user: 'root' } },
      { step: 'exec', args: { argv: ['hello'], timeoutS: 600 } },
    ]);
    expect(() => chainFromValue({ base: 'busybox', steps: [{ exec: ['true'] }, { nosuch: 1 }] })).toThrow('step 2: Unknown step "nosuch"');
    expect(() => chainFromValue({ base: 'busybox', steps: [{ apt: [], exec: [] }] })).toThrow(/step 1: Each step is one/);
    expect(() => chainFromValue({ steps: [] })).toThrow(/exports \{ base, steps \}/);
    expect(() => chainFromValue([{ step: 'busybox' }, { step: 'exec', args: { argv: [] } }])).toThrow(/step 1: exec: argv/);
    // Steps only the server knows (user steps) go on unchecked: words for it to read, or arguments.
    expect(chainFromValue({ base: 'busybox', steps: [{ greet: ['world'] }, { greet: { who: 'x' } }, 'greet'] }, undefined, true).slice(1)).toEqual([
      { step: 'greet', args: {}, words: ['world'] },
      { step: 'greet', args: { who: 'x' } },
      { step: 'greet', args: {}, words: [] },
    ]);
    expect(() => chainFromValue({ base: 'nosuch' }, undefined, true)).toThrow('base: Unknown base "nosuch"');
  });
});
