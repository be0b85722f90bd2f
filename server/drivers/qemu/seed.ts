import fs from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { lastLine, run } from '../exec';

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

/**
 * What xorriso said when it failed: its own event lines (`xorriso : FAILURE : ...`, `SORRY`, a
 * crash's `UNIX-SIGNAL`), not the banner it prints first even with -quiet.
 */
export function xorrisoComplaint(stderr: string): string {
  const said = stderr.split('\n').filter((l) => /^(xorriso|libisofs|libburn) *: *(FATAL|FAILURE|SORRY|ABORT)\b|^UNIX-SIGNAL:/.test(l.trim()));
  return said.length ? said.map((l) => l.trim()).join('; ') : lastLine(stderr);
}

/** xorriso died on a signal (it catches it, says UNIX-SIGNAL and exits 1). */
const xorrisoCrashed = (stderr: string): boolean => /^UNIX-SIGNAL:/m.test(stderr);

/**
 * xorriso 1.5.4 (Debian 12's) now and then dies of a SIGSEGV while writing even this two-file
 * volume: seen once in a CI run (a machine's create failed), and once in 450 runs by hand on a
 * busy host. The same command again succeeds: a crash is tried again, twice at most.
 */
const XORRISO_TRIES = 3;

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
    const argv = ['xorriso', '-as', 'mkisofs', '-quiet', '-V', 'cidata', '-J', '-r', '-o', `${out}.new`, src];
    for (let tries = 1; ; tries++) {
      const r = await run(argv, { timeoutMs: 60_000 });
      if (r.code === 0) break;
      fs.rmSync(`${out}.new`, { force: true });
      if (tries < XORRISO_TRIES && xorrisoCrashed(r.stderr)) continue;
      const why = r.timedOut ? 'it took over 60 s' : xorrisoComplaint(r.stderr) || `exit ${r.code ?? r.signal}`;
      throw new Error(`xorriso failed to write the cloud-init seed: ${why}`);
    }
    fs.renameSync(`${out}.new`, out);
    return out;
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
}
