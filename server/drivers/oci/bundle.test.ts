import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasSystemd, ociProcess, readImageFile, resolveUser } from './bundle';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bundle-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function layer(name: string, files: Record<string, string>): string {
  const d = path.join(tmp, name);
  for (const [f, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), body);
  }
  return d;
}

const low = layer('low', {
  'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n',
  'etc/group': 'root:x:0:\napp:x:1000:\nwheel:x:10:app\n',
});
const top = layer('top', { 'etc/motd': 'hi\n' });

describe('OCI users and files', () => {
  it('reads image files top-down, never through a symlink out of the image', () => {
    expect(readImageFile([low, top], 'etc/passwd')).toContain('app:x:1000');
    const evil = path.join(tmp, 'evil');
    fs.mkdirSync(evil);
    fs.symlinkSync('/etc', path.join(evil, 'etc'));
    // The top layer's /etc is a link to the host's: not followed, and it hides nothing below it either.
    expect(readImageFile([low, evil], 'etc/passwd')).toBeNull();
  });

  it('turns User into numbers from passwd and group', () => {
    expect(resolveUser('', [low])).toMatchObject({ uid: 0, gid: 0, home: '/root' });
    expect(resolveUser('app', [low])).toEqual({ uid: 1000, gid: 1000, gids: [1000, 10], home: '/home/app' });
    expect(resolveUser('1000:10', [low])).toMatchObject({ uid: 1000, gid: 10, gids: [10] });
    expect(resolveUser('4242', [low])).toMatchObject({ uid: 4242, gid: 4242, home: null });
    expect(resolveUser('app:wheel', [low])).toMatchObject({ uid: 1000, gid: 10 });
    expect(() => resolveUser('nobody', [low])).toThrow('user "nobody" is not in the image');
    expect(() => resolveUser('app:nogroup', [low])).toThrow('group "nogroup"');
  });

  it('builds argv from Entrypoint and Cmd (or the given command), with PATH and HOME when the image sets none', () => {
    const cfg = { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'], Env: ['A=1'], WorkingDir: 'srv', User: 'app' };
    expect(ociProcess(cfg, [low], null)).toEqual({
      argv: ['/bin/sh', '-c', 'echo hi'],
      process: { env: [expect.stringMatching(/^PATH=/), 'A=1', 'HOME=/home/app'], cwd: '/srv', uid: 1000, gid: 1000, gids: [1000, 10] },
    });
    expect(ociProcess(cfg, [low], ['cat']).argv).toEqual(['/bin/sh', '-c', 'cat']);
    expect(() => ociProcess({}, [low], null)).toThrow('no Entrypoint or Cmd');
  });

  it("replaces the Entrypoint and Cmd with an entrypoint given (docker's --entrypoint), the command after it", () => {
    const cfg = { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo hi'] };
    expect(ociProcess(cfg, [low], null, ['/bin/sleep']).argv).toEqual(['/bin/sleep']);
    expect(ociProcess(cfg, [low], ['60'], ['/bin/sleep']).argv).toEqual(['/bin/sleep', '60']);
  });

  it('tells a system image (systemd in a layer) from an application image', () => {
    expect(hasSystemd([low])).toBe(false);
    expect(hasSystemd([low, layer('sys', { 'usr/lib/systemd/systemd': '' })])).toBe(true);
  });
});
