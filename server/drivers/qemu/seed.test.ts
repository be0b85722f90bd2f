import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { userDataProblem } from '@/lib/contracts/disk-images';
import { seedMetaData, seedOf, seedUserData, writeSeed, xorrisoComplaint } from './seed';

describe('cloud-init seed', () => {
  const base = { instanceId: 'mch_1', hostname: 'web-1', keys: ['ssh-ed25519 AAAA machine', 'ssh-ed25519 BBBB user'] };

  it('writes cloud-config with the hostname and root keys when no user-data is asked for', () => {
    const text = seedUserData(base);
    expect(text.startsWith('#cloud-config\n')).toBe(true);
    expect(parse(text)).toEqual({ hostname: 'web-1', preserve_hostname: false, disable_root: false, ssh_authorized_keys: base.keys });
    expect(seedMetaData(base)).toBe('instance-id: mch_1\nlocal-hostname: web-1\n');
  });

  it("merges the user's cloud-config: their keys kept (once), their keys first, the hostname is the machine's", () => {
    const userData = '#cloud-config\nhostname: other\npackages: [nginx]\nssh_authorized_keys:\n  - ssh-ed25519 BBBB user\n  - ssh-rsa CCCC theirs\n';
    const merged = parse(seedUserData({ ...base, userData })) as Record<string, unknown>;
    expect(merged).toMatchObject({ hostname: 'web-1', packages: ['nginx'], disable_root: false });
    expect(merged.ssh_authorized_keys).toEqual(['ssh-ed25519 BBBB user', 'ssh-rsa CCCC theirs', 'ssh-ed25519 AAAA machine']);
  });

  it("a fork's seed keeps the guest's SSH host keys (they are pinned), even over the user's ssh_deletekeys", () => {
    expect(parse(seedUserData(base))).not.toHaveProperty('ssh_deletekeys');
    const fork = parse(seedUserData({ ...base, userData: 'ssh_deletekeys: true\n', keepHostKeys: true })) as Record<string, unknown>;
    expect(fork.ssh_deletekeys).toBe(false);
  });

  it('takes YAML mappings (and an empty document) as user-data, refuses the rest', () => {
    expect(userDataProblem('#cloud-config\nruncmd: [ls]\n')).toBeNull();
    expect(userDataProblem('# nothing\n')).toBeNull();
    expect(userDataProblem('packages: [curl\n')).toMatch(/^not YAML: /);
    expect(userDataProblem('- a\n- b\n')).toMatch(/not a YAML mapping/);
    expect(userDataProblem('just words')).toMatch(/not a YAML mapping/);
  });
});

// What xorriso 1.5.4 prints when it dies of a SIGSEGV (seen in CI), and on a real failure.
const CRASH = `xorriso 1.5.4 : RockRidge filesystem manipulator, libburnia project.\n\n\nUNIX-SIGNAL:  SIGSEGV  errno= 0
xorriso : ABORT : Trying to shut down drive and library\nxorriso : ABORT : Wait the normal burning time before any kill -9\n`;

describe('writing the seed with xorriso', () => {
  let dir: string;
  let bin: string;
  const path0 = process.env.PATH;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-seed-'));
    bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
  });
  afterEach(() => {
    process.env.PATH = path0;
    fs.rmSync(dir, { recursive: true, force: true });
  });
  /** An xorriso on PATH that crashes as the real one does, its first `crashes` times, then runs the real one. */
  const crashing = (crashes: number) => {
    const count = path.join(dir, 'count');
    fs.writeFileSync(
      path.join(bin, 'xorriso'),
      `#!/bin/sh\nn=$(cat ${count} 2>/dev/null || echo 0); echo $((n + 1)) > ${count}\n` +
        `if [ "$n" -lt ${crashes} ]; then printf '%s' '${CRASH}' >&2; exit 1; fi\nexec /usr/bin/xorriso "$@"\n`,
      { mode: 0o755 },
    );
    process.env.PATH = `${bin}:${path0}`;
    return () => Number(fs.readFileSync(count, 'utf8'));
  };
  const volumeId = (iso: string) =>
    fs
      .readFileSync(iso)
      .subarray(0x8028, 0x8028 + 32)
      .toString('latin1')
      .trim();

  it('writes an ISO 9660 volume labelled cidata, and nothing beside it', async () => {
    const iso = await writeSeed(dir, { instanceId: 'mch_1', hostname: 'web-1', keys: ['ssh-ed25519 AAAA k'] });
    expect(iso).toBe(seedOf(dir));
    expect(volumeId(iso)).toBe('cidata');
    expect(fs.readdirSync(dir).sort()).toEqual(['bin', 'seed.iso']);
  });

  it('tries again when xorriso crashes, and says its crash when it keeps crashing, leaving no seed', async () => {
    const runs = crashing(2);
    expect(volumeId(await writeSeed(dir, { instanceId: 'mch_1', hostname: 'web-1', keys: [] }))).toBe('cidata');
    expect(runs()).toBe(3);

    fs.rmSync(seedOf(dir));
    fs.rmSync(path.join(dir, 'count'));
    const always = crashing(3);
    await expect(writeSeed(dir, { instanceId: 'mch_1', hostname: 'web-1', keys: [] })).rejects.toThrow(
      /^xorriso failed to write the cloud-init seed: UNIX-SIGNAL: {2}SIGSEGV {2}errno= 0; xorriso : ABORT : Trying to shut down/,
    );
    expect(always()).toBe(3);
    expect(fs.readdirSync(dir).sort()).toEqual(['bin', 'count']);
  });

  it("says xorriso's complaint, not its banner", () => {
    const complaint = "xorriso : FAILURE : Cannot determine attributes of source file '/x' : No such file or directory";
    expect(xorrisoComplaint(`xorriso 1.5.4 : RockRidge filesystem manipulator, libburnia project.\n\n${complaint}\n`)).toBe(complaint);
    expect(xorrisoComplaint('something else went wrong\n')).toBe('something else went wrong');
  });
});
