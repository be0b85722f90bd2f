import { firstLine, run } from '../exec';
import { podmanFlags } from '../host';

let flags: Promise<string[]> | null = null;
/** `podman` with the global flags this host needs (found once). */
export async function podman(): Promise<string[]> {
  flags ??= podmanFlags().then((f) => {
    if (!f) throw new Error('podman does not answer with any known runtime configuration (see Settings → host).');
    return ['podman', ...f.flags];
  });
  return flags;
}

/** A podman command that must succeed: its stdout, or an error naming the subcommand and podman's first line. */
export async function pm(args: string[], timeoutMs = 60_000): Promise<string> {
  const r = await run([...(await podman()), ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`podman ${args[0]} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  return r.stdout;
}
