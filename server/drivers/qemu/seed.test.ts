import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { userDataProblem } from '@/lib/contracts/disk-images';
import { seedMetaData, seedUserData } from './seed';

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
