import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { firstLine, run } from '../exec';

/** What a machine's cloud-init seed says: who it is, who may log in, and the user's own cloud-config. */
export interface SeedSpec {
  instanceId: string;
  hostname: string;
  /** Public keys for root (the machine's own key first, then its owner's). */
  keys: string[];
  /** YAML cloud-config from the create form or `--user-data FILE` (checked at the API: a mapping). */
  userData?: string;
  /**
   * A fork's seed: its guest has its source's SSH host keys, pinned with the identity the fork
   * copied, so cloud-init must not make new ones when it sees the new instance-id.
   */
  keepHostKeys?: boolean;
}

/** The machine's NoCloud seed: a small ISO 9660 volume labelled `cidata`, in a CD-ROM drive of the guest. */
export const seedOf = (dir: string) => path.join(dir, 'seed.iso');

/**
 * The user-data Hangar writes: the user's cloud-config with the hostname set and root's keys added
 * (root keeps key logins: `disable_root: false`; the SSH console and exec log in as root).
 */
export function seedUserData(s: SeedSpec): string {
  const own = s.userData ? (parse(s.userData) as Record<string, unknown> | null) : null;
  const theirs = Array.isArray(own?.ssh_authorized_keys) ? (own.ssh_authorized_keys as unknown[]).map(String) : [];
  const merged = {
    ...(own ?? {}),
    hostname: s.hostname,
    preserve_hostname: false,
    disable_root: false,
    ssh_authorized_keys: [...theirs, ...s.keys.filter((k) => !theirs.includes(k))],
    ...(s.keepHostKeys ? { ssh_deletekeys: false } : {}),
  };
  return `#cloud-config\n${stringify(merged)}`;
}

export const seedMetaData = (s: SeedSpec): string => `instance-id: ${s.instanceId}\nlocal-hostname: ${s.hostname}\n`;

/** Write the seed ISO (xorriso, as genisoimage would: Joliet and Rock Ridge names). */
export async function writeSeed(dir: string, s: SeedSpec): Promise<string> {
  const src = path.join(dir, '.seed');
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { mode: 0o700 });
  try {
    fs.writeFileSync(path.join(src, 'meta-data'), seedMetaData(s));
    fs.writeFileSync(path.join(src, 'user-data'), seedUserData(s));
    const out = seedOf(dir);
    // Written beside it and renamed: a running qemu keeps the seed it opened, the next boot reads the new one.
    const r = await run(['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', `${out}.new`, src], { timeoutMs: 60_000 });
    if (r.code !== 0) {
      fs.rmSync(`${out}.new`, { force: true });
      throw new Error(`xorriso failed to write the cloud-init seed: ${firstLine(r.stderr)}`);
    }
    fs.renameSync(`${out}.new`, out);
    return out;
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
}
