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
