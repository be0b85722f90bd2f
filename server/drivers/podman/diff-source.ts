import { firstLine, run } from '../exec';
import type { DiffSource, MachineSpec } from '../types';
import { podman } from './cli';
import { containerName } from './runtime';

/** podman's overlay storage as diff layers: LowerDir lists the layers top first, UpperDir is the top one. */
export function layersFromGraph(data: { LowerDir?: string; UpperDir?: string } | undefined, what: string): DiffSource {
  if (!data?.UpperDir) throw new Error(`${what} is not on podman's overlay storage: its files cannot be read for a diff`);
  const lower = (data.LowerDir ?? '').split(':').filter(Boolean).reverse();
  // A commit's layer comes from a tar whose writer keeps whole seconds (rounded or cut): within a second is the same time.
  return { kind: 'layers', layers: [...lower, data.UpperDir], mtimeSlackMs: 1000 };
}

async function graph(args: string[], what: string): Promise<DiffSource> {
  const r = await run([...(await podman()), ...args, '--format', '{{json .GraphDriver}}'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`podman ${args[0]} inspect of ${what} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  const g = JSON.parse(r.stdout) as { Name?: string; Data?: { LowerDir?: string; UpperDir?: string } };
  if (g.Name !== 'overlay') throw new Error(`${what} is on podman's ${g.Name ?? 'unknown'} storage, not overlay: its files cannot be read for a diff`);
  return layersFromGraph(g.Data, what);
}

/**
 * Where a podman snapshot's (a committed image) and a container's files are: the overlay
 * layers of podman's storage, read as they are (whiteouts and opaque directories as the
 * kernel's overlayfs writes them); layers two sides share are the same directories, so the
 * diff skips them.
 */
export const podmanDiffSource = {
  snapshot: (frozen: string) => graph(['image', 'inspect', frozen], `snapshot image ${frozen}`),
  machine: (m: MachineSpec) => graph(['container', 'inspect', containerName(m)], `container ${containerName(m)}`),
};
