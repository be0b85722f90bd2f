import fs from 'node:fs';
import path from 'node:path';

/**
 * Hangar's own containers-storage (c/storage, overlay driver) under the data dir, and the files
 * skopeo reads, all passed explicitly so the host's /etc/containers and ~/.docker never matter.
 */
export interface OciPaths {
  root: string;
  /** c/storage graph root: overlay/<layer>/diff are the unpacked layers, shared between images. */
  storage: string;
  /** c/storage locks and mount counts; cleared at start-up. */
  runroot: string;
  policy: string;
  registriesConf: string;
  storageConf: string;
  /** Registry settings as a node kept them before they went into the database: read once at start-up, then renamed. */
  registries: string;
  /** skopeo's credentials file, written from the database's registries (0600). */
  auth: string;
  /** Per registry: its CA (`certs/<host_port>/ca.crt`, written from the database), passed as --src-cert-dir. */
  certs: string;
  /** An empty `usr/`: nspawn's --directory and the lowest layer of every OCI container (nspawn wants /usr in its root). */
  shim: string;
  /** Scratch dirs of pulls (`pull-<job>`), removed when each ends. */
  tmp: string;
}

export function ociPaths(dataRoot: string): OciPaths {
  const root = path.join(dataRoot, 'oci');
  return {
    root,
    storage: path.join(root, 'storage'),
    runroot: path.join(root, 'run'),
    policy: path.join(root, 'policy.json'),
    registriesConf: path.join(root, 'registries.conf'),
    storageConf: path.join(root, 'storage.conf'),
    registries: path.join(root, 'registries.json'),
    auth: path.join(root, 'auth.json'),
    certs: path.join(root, 'certs'),
    shim: path.join(root, 'shim'),
    tmp: path.join(dataRoot, 'tmp'),
  };
}

/** The storage name of an image by its manifest digest: fully qualified, so c/storage adds no docker.io/. */
export const storageName = (manifestDigest: string) => `hangar.local/oci:${manifestDigest.replace(/^sha256:/, '')}`;

export const storageRef = (p: OciPaths, manifestDigest: string) => `containers-storage:[overlay@${p.storage}+${p.runroot}]${storageName(manifestDigest)}`;

/** The fixed files, written once per start-up; the run root starts empty (its locks belong to processes gone). */
export function prepareStore(p: OciPaths): void {
  for (const d of [p.root, p.storage, p.certs, p.tmp]) fs.mkdirSync(d, { recursive: true, mode: 0o700 });
  fs.chmodSync(p.root, 0o700);
  fs.rmSync(p.runroot, { recursive: true, force: true });
  fs.mkdirSync(p.runroot, { recursive: true, mode: 0o700 });
  fs.mkdirSync(path.join(p.shim, 'usr'), { recursive: true, mode: 0o755 });
  fs.chmodSync(p.shim, 0o755);
  fs.writeFileSync(p.policy, `${JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] })}\n`, { mode: 0o600 });
  fs.writeFileSync(p.registriesConf, 'unqualified-search-registries = []\n', { mode: 0o600 });
  fs.writeFileSync(p.storageConf, `[storage]\ndriver = "overlay"\ngraphroot = ${JSON.stringify(p.storage)}\nrunroot = ${JSON.stringify(p.runroot)}\n`, {
    mode: 0o600,
  });
  if (!fs.existsSync(p.auth)) fs.writeFileSync(p.auth, '{"auths":{}}\n', { mode: 0o600 });
}

/** The environment skopeo runs with: Hangar's config files, not the host's. */
export const skopeoEnv = (p: OciPaths): Record<string, string> => ({
  CONTAINERS_REGISTRIES_CONF: p.registriesConf,
  CONTAINERS_STORAGE_CONF: p.storageConf,
  REGISTRY_AUTH_FILE: p.auth,
});

interface StoredLayer {
  id: string;
  parent?: string;
  'diff-digest'?: string;
  'diff-size'?: number;
  'compressed-diff-digest'?: string;
  'compressed-size'?: number;
}

interface StoredImage {
  id: string;
  names?: string[];
  layer?: string;
}

const readJson = <T>(file: string, fallback: T): T => {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T;
  } catch {
    return fallback;
  }
};

export interface ImageLayers {
  /** The c/storage image id (its config digest, hex). */
  id: string;
  /** Lowest first: the overlay lower dirs (short links, to keep the mount options short) and what each holds. */
  layers: { id: string; dir: string; diffDigest: string; size: number }[];
}

/** An image's layers as c/storage keeps them (layers.json, walked from the top layer down by `parent`). */
export function imageLayers(p: OciPaths, manifestDigest: string): ImageLayers | null {
  const images = readJson<StoredImage[]>(path.join(p.storage, 'overlay-images', 'images.json'), []);
  const name = storageName(manifestDigest);
  const img = images.find((i) => i.names?.includes(name));
  if (!img) return null;
  const all = new Map(readJson<StoredLayer[]>(path.join(p.storage, 'overlay-layers', 'layers.json'), []).map((l) => [l.id, l]));
  const chain: ImageLayers['layers'] = [];
  for (let id = img.layer; id; id = all.get(id)?.parent) {
    const l = all.get(id);
    if (!l) return null;
    let dir = path.join(p.storage, 'overlay', id, 'diff');
    try {
      const link = fs.readFileSync(path.join(p.storage, 'overlay', id, 'link'), 'utf8').trim();
      if (/^[A-Z0-9]+$/.test(link)) dir = path.join(p.storage, 'overlay', 'l', link);
    } catch {
      // no short link: the full path
    }
    chain.unshift({ id, dir, diffDigest: l['diff-digest'] ?? '', size: l['diff-size'] ?? 0 });
  }
  return { id: img.id, layers: chain };
}

/** Every layer id c/storage holds (to show that shared layers are stored once). */
export const storedLayerIds = (p: OciPaths): string[] => readJson<StoredLayer[]>(path.join(p.storage, 'overlay-layers', 'layers.json'), []).map((l) => l.id);

/** The digests (as a registry names them) of the layers the store holds already: a pull copies the others only. */
export const storedBlobDigests = (p: OciPaths): Set<string> =>
  new Set(
    readJson<StoredLayer[]>(path.join(p.storage, 'overlay-layers', 'layers.json'), []).flatMap((l) =>
      l['compressed-diff-digest'] ? [l['compressed-diff-digest']] : [],
    ),
  );

/**
 * Images in the store named by Hangar (`hangar.local/oci:HEX`), by manifest digest, each with the
 * bytes of the layers no other stored image uses (what deleting it alone frees).
 */
export function storedImages(p: OciPaths): { digest: string; ownBytes: number }[] {
  const images = readJson<StoredImage[]>(path.join(p.storage, 'overlay-images', 'images.json'), []);
  const layers = new Map(readJson<StoredLayer[]>(path.join(p.storage, 'overlay-layers', 'layers.json'), []).map((l) => [l.id, l]));
  const chainOf = (top: string | undefined) => {
    const ids: string[] = [];
    for (let id = top; id && !ids.includes(id); id = layers.get(id)?.parent) ids.push(id);
    return ids;
  };
  const users = new Map<string, number>();
  const chains = images.map((i) => chainOf(i.layer));
  for (const c of chains) for (const id of c) users.set(id, (users.get(id) ?? 0) + 1);
  const prefix = storageName('');
  return images.flatMap((img, i) => {
    const name = img.names?.find((n) => n.startsWith(prefix) && /^[0-9a-f]{64}$/.test(n.slice(prefix.length)));
    if (!name) return [];
    const ownBytes = chains[i].filter((id) => users.get(id) === 1).reduce((a, id) => a + (layers.get(id)?.['diff-size'] ?? 0), 0);
    return [{ digest: `sha256:${name.slice(prefix.length)}`, ownBytes }];
  });
}
