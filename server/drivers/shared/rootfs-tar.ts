import { firstLine, run } from '../exec';

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
