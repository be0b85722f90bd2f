import type { z } from 'zod';
import { firstLine, run } from '../exec';
import type { SnapshotArchiver } from '../types';

const LONG = { timeoutMs: 30 * 60_000 };
/** Owners, modes, devices, overlay whiteouts and xattrs (opaque dirs) kept both ways: a root filesystem. */
export const KEEP_ROOTFS = ['--numeric-owner', '--xattrs', '--xattrs-include=*', '--sparse'];

export async function tar(args: string[], what: string): Promise<void> {
  const r = await run(['tar', ...args], LONG);
  if (r.code !== 0) throw new Error(`${what} failed: ${firstLine(r.stderr) || `tar exit ${r.code}`}`);
}

/** Members of a root filesystem tar: relative, without `..`, nothing that could land outside the dir it is unpacked in. Returns them. */
export async function checkRootfsTar(file: string, what: string): Promise<string[]> {
  const r = await run(['tar', '-tf', file], LONG);
  if (r.code !== 0) throw new Error(`${what} is not a tar archive (${firstLine(r.stderr)})`);
  const names = r.stdout.split('\n').filter(Boolean);
  for (const name of names)
    if (name.startsWith('/') || name.split('/').includes('..')) throw new Error(`${what} has a member outside its root: "${name.slice(0, 80)}"`);
  return names;
}

/** What container archives share: one `rootfs.tar` and no other member, the manifest's record checked against the driver's schema. */
export function rootfsArchive(
  schema: z.ZodType<Record<string, unknown>>,
): Pick<SnapshotArchiver, 'members' | 'summed' | 'liveRequired' | 'disk' | 'checkRecord'> {
  return {
    members: [],
    summed: [],
    liveRequired: [],
    disk: 'rootfs.tar',
    checkRecord(record) {
      const r = schema.safeParse(record);
      if (!r.success) throw new Error(r.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '));
      return r.data;
    },
  };
}
