import { run } from '../exec';

/** The two archive formats skopeo reads: `docker save` / `podman save` (manifest.json) and an OCI layout in a tar. */
export type ArchiveFormat = 'docker-archive' | 'oci-archive';

export class ArchiveError extends Error {}

/** The tar's entry names, without a leading `./` (GNU tar reads it; a file that is no tar is refused by name). */
async function entries(file: string): Promise<Map<string, string>> {
  const r = await run(['tar', '--list', '--file', file], { timeoutMs: 120_000, maxOutputBytes: 16 * 2 ** 20 });
  if (r.code !== 0) throw new ArchiveError(`not a tar archive (${r.stderr.trim().split('\n').pop()?.slice(0, 200) ?? 'tar failed'})`);
  return new Map(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((e) => [e.replace(/^\.\//, ''), e]),
  );
}

async function readEntry(file: string, entry: string): Promise<unknown> {
  const r = await run(['tar', '--extract', '--to-stdout', '--file', file, entry], { timeoutMs: 60_000, maxOutputBytes: 4 * 2 ** 20 });
  if (r.code !== 0) throw new ArchiveError(`cannot read ${entry} (${r.stderr.trim().slice(0, 200)})`);
  try {
    return JSON.parse(r.stdout);
  } catch {
    throw new ArchiveError(`${entry} is not JSON`);
  }
}

/**
 * What an uploaded image archive is: its format (an OCI layout wins when a tar holds both, as
 * Docker 25's `docker save` writes) and the names it gives its image (docker's RepoTags, an OCI
 * ref.name annotation). One image per archive: skopeo would otherwise need to be told which.
 */
export async function readArchive(file: string): Promise<{ format: ArchiveFormat; names: string[] }> {
  const names = await entries(file);
  if (names.has('oci-layout') && names.has('index.json')) {
    const index = (await readEntry(file, names.get('index.json')!)) as { manifests?: { annotations?: Record<string, string> }[] };
    const manifests = Array.isArray(index?.manifests) ? index.manifests : [];
    if (manifests.length !== 1) throw new ArchiveError(`the OCI layout holds ${manifests.length} images; Hangar imports an archive of one`);
    const name = manifests[0].annotations?.['org.opencontainers.image.ref.name'];
    return { format: 'oci-archive', names: name ? [name] : [] };
  }
  if (names.has('manifest.json')) {
    const manifest = (await readEntry(file, names.get('manifest.json')!)) as { RepoTags?: string[] | null }[];
    if (!Array.isArray(manifest) || manifest.length !== 1)
      throw new ArchiveError(`the archive holds ${Array.isArray(manifest) ? manifest.length : 0} images; Hangar imports an archive of one`);
    return { format: 'docker-archive', names: (manifest[0].RepoTags ?? []).filter((t) => typeof t === 'string') };
  }
  throw new ArchiveError('neither an OCI layout (oci-layout, index.json) nor a docker save archive (manifest.json)');
}
