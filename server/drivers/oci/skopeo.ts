import { createHash } from 'node:crypto';
import { run } from '../exec';
import { spawnPty } from '../pty';
import { sourceRef, type ImageRef } from './ref';
import { skopeoEnv, storageRef, type OciPaths } from './store';

/** How to reach one registry: TLS verification (off: the "insecure" switch, plain HTTP too) and its CA dir. */
export interface RegistryAccess {
  insecure: boolean;
  certDir: string | null;
}

// eslint-disable-next-line no-control-regex -- the terminal escapes of skopeo's progress bars are what this removes
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export type SkopeoFailure = 'not-found' | 'unauthorized' | 'tls' | 'unreachable' | 'corrupt' | 'platform' | 'bad-ref' | 'other';

/** What went wrong, in Hangar's words, and which kind of failure it is (core maps kinds to HTTP statuses). */
export class SkopeoError extends Error {
  constructor(
    readonly kind: SkopeoFailure,
    message: string,
  ) {
    super(message);
  }
}

/** skopeo's message (the text after `msg=`, or its last line) turned into a SkopeoError that names the ref and host. */
export function skopeoError(output: string, ref: ImageRef, opts: { sentCredentials: boolean }): SkopeoError {
  const plain = output.replace(ANSI, '');
  const m = /msg="((?:[^"\\]|\\.)*)"/.exec(plain);
  const text = (m ? m[1].replace(/\\"/g, '"') : (plain.trim().split('\n').pop() ?? '')).replace(/^Error parsing image name "[^"]*": /, '').slice(0, 500);
  const host = ref.registry;
  const digest = /Digest did not match, expected (sha256:[0-9a-f]{64})/.exec(plain);
  if (digest) return new SkopeoError('corrupt', `layer ${digest[1]} of ${ref.full} is corrupt (digest mismatch); nothing was imported.`);
  const unpack = /(gzip: invalid (?:checksum|header)|flate: corrupt input[^"\n]*|zstd: [^"\n]*corrupt[^"\n]*)/.exec(plain);
  if (unpack) return new SkopeoError('corrupt', `a layer of ${ref.full} is corrupt (${unpack[1]}); nothing was imported.`);
  if (/manifest unknown|name unknown|not found/i.test(text)) return new SkopeoError('not-found', `image not found: ${ref.full} (${text})`);
  if (/unauthorized|authentication required|invalid username\/password|denied/i.test(text))
    return new SkopeoError(
      'unauthorized',
      opts.sentCredentials ? `login failed for ${host}: the registry refused the credentials` : `${host} needs a login: hangar registry login ${host}`,
    );
  if (/x509:|certificate/i.test(text))
    return new SkopeoError('tls', `TLS certificate of ${host} not trusted (${text}); add its CA in Settings -> Registries, or mark it insecure`);
  if (/server gave HTTP response to HTTPS client/.test(text))
    return new SkopeoError('tls', `${host} speaks plain HTTP: mark it insecure in Settings -> Registries to use it`);
  if (/connection refused|no such host|i\/o timeout|network is unreachable|no route to host/i.test(text))
    return new SkopeoError('unreachable', `registry ${host} is unreachable (${text})`);
  if (/no image found in image index|no matching manifest/i.test(text)) return new SkopeoError('platform', `${ref.full}: ${text}`);
  if (/invalid reference format/.test(text)) return new SkopeoError('bad-ref', `not an image reference: ${ref.full} (${text})`);
  return new SkopeoError('other', `skopeo failed for ${ref.full}: ${text || 'no message'}`);
}

/** How skopeo reaches the registry (an archive is a local file: nothing). */
const accessArgs = (p: OciPaths, ref: ImageRef, a: RegistryAccess, prefix: '' | 'src-') =>
  ref.archive
    ? []
    : [`--${prefix}tls-verify=${a.insecure ? 'false' : 'true'}`, ...(a.certDir ? [`--${prefix}cert-dir`, a.certDir] : []), `--${prefix}authfile`, p.auth];

/** The raw bytes skopeo inspect returns (a manifest, or with `config` the config blob). */
async function inspectRaw(p: OciPaths, ref: ImageRef, a: RegistryAccess, o: { digest?: string; config?: boolean; creds: boolean; signal?: AbortSignal }) {
  const argv = ['skopeo', '--policy', p.policy, 'inspect', '--raw', ...(o.config ? ['--config'] : []), ...accessArgs(p, ref, a, ''), sourceRef(ref, o.digest)];
  const r = await run(argv, { env: skopeoEnv(p), timeoutMs: 120_000, signal: o.signal, maxOutputBytes: 8 * 2 ** 20 });
  if (r.code !== 0)
    throw r.timedOut
      ? new SkopeoError('unreachable', `registry ${ref.registry} did not answer within 120 s`)
      : skopeoError(r.stderr, ref, { sentCredentials: o.creds });
  return r.stdout;
}

export interface ResolvedImage {
  /** The manifest of this host's platform: its digest (what is pulled and stored) and its layers. */
  digest: string;
  /** The digest of the index it was chosen from, when the ref named an index. */
  indexDigest: string | null;
  layers: { digest: string; size: number; mediaType: string }[];
  config: Record<string, unknown>;
  configDigest: string;
}

const INDEX_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];
export const hostArch = () =>
  ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' })[process.arch as string] ?? process.arch;

/**
 * The manifest for this host (linux/<arch>), its layers and its config, read before anything is
 * copied: an index without this platform, or a single manifest for another one (which skopeo
 * would copy without a word), is refused here.
 */
export async function resolveImage(p: OciPaths, ref: ImageRef, a: RegistryAccess, creds: boolean, signal?: AbortSignal): Promise<ResolvedImage> {
  const arch = hostArch();
  // The config asked for at the same time, by the ref itself (one skopeo start and round trip less before the pull's job);
  // used only when its bytes are the config the manifest names, else it is asked for by the manifest's digest below.
  const [first, early] = await Promise.all([
    inspectRaw(p, ref, a, { creds, signal }),
    inspectRaw(p, ref, a, { config: true, creds, signal }).catch(() => null),
  ]);
  let raw = first;
  let digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
  let indexDigest: string | null = null;
  let manifest = JSON.parse(raw) as Record<string, unknown>;
  if (INDEX_TYPES.includes(String(manifest.mediaType)) || Array.isArray(manifest.manifests)) {
    // An archive's image is read whole (skopeo cannot pick one of its manifests by digest): one platform per archive.
    if (ref.archive) throw new SkopeoError('platform', `${ref.full} holds a multi-platform index: save one platform (docker save, podman save --format)`);
    const entries = (manifest.manifests ?? []) as { digest: string; platform?: { architecture?: string; os?: string } }[];
    const pick = entries.find((e) => e.platform?.os === 'linux' && e.platform.architecture === arch);
    if (!pick) {
      const have = entries.map((e) => `${e.platform?.os ?? '?'}/${e.platform?.architecture ?? '?'}`).join(', ') || 'none';
      throw new SkopeoError('platform', `${ref.full} has no image for linux/${arch} (it has: ${have}); this host runs linux/${arch}`);
    }
    indexDigest = digest;
    raw = await inspectRaw(p, ref, a, { digest: pick.digest, creds, signal });
    digest = `sha256:${createHash('sha256').update(raw).digest('hex')}`;
    if (digest !== pick.digest) throw new SkopeoError('corrupt', `the manifest of ${ref.full} for linux/${arch} does not match its digest ${pick.digest}`);
    manifest = JSON.parse(raw) as Record<string, unknown>;
  }
  if (manifest.schemaVersion !== 2 || !Array.isArray(manifest.layers))
    throw new SkopeoError('other', `${ref.full} has a manifest Hangar does not read (schema ${String(manifest.schemaVersion)}; only schema 2)`);
  const layers = (manifest.layers as { digest: string; size: number; mediaType: string }[]).map((l) => ({
    digest: String(l.digest),
    size: Number(l.size) || 0,
    mediaType: String(l.mediaType),
  }));
  const configDigest = String((manifest.config as { digest?: string } | undefined)?.digest ?? '');
  const sameConfig = early !== null && `sha256:${createHash('sha256').update(early).digest('hex')}` === configDigest;
  const config = JSON.parse(sameConfig ? early : await inspectRaw(p, ref, a, { digest, config: true, creds, signal })) as Record<string, unknown>;
  const os = String(config.os ?? 'linux');
  const cArch = String(config.architecture ?? arch);
  if (os !== 'linux' || cArch !== arch) throw new SkopeoError('platform', `${ref.full} is ${os}/${cArch}; this host runs linux/${arch}`);
  return { digest, indexDigest, layers, config, configDigest };
}

const UNITS: Record<string, number> = { b: 1, B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, KB: 1e3, MB: 1e6, GB: 1e9 };
const bytesOf = (s: string) => {
  const m = /^([\d.]+)\s*([A-Za-z]*)$/.exec(s);
  return m ? Number(m[1]) * (UNITS[m[2]] ?? 1) : 0;
};

export interface CopyProgress {
  /** Short (12 hex) digest of a blob and the bytes of it copied so far; `done` once complete (or already there). */
  blob(short: string, bytes: number, done: boolean): void;
  line(text: string): void;
}

/**
 * `skopeo copy` of one manifest (by digest) into Hangar's store, on a pty so skopeo draws its
 * progress bars (it prints no byte counts otherwise); each redraw becomes a blob() call.
 * skopeo checks every blob's digest while it streams, and c/storage drops what an aborted copy left.
 */
export function copyToStore(
  p: OciPaths,
  ref: ImageRef,
  digest: string,
  a: RegistryAccess,
  o: { tmp: string; creds: boolean; signal: AbortSignal; progress: CopyProgress },
) {
  const argv = ['skopeo', '--policy', p.policy, '--tmpdir', o.tmp, 'copy', ...accessArgs(p, ref, a, 'src-'), sourceRef(ref, digest), storageRef(p, digest)];
  return new Promise<void>((resolve, reject) => {
    const proc = spawnPty(argv, { cols: 200, rows: 50, cwd: o.tmp, env: skopeoEnv(p) });
    let out = '';
    let partial = '';
    const seen = new Set<string>();
    const onLine = (raw: string) => {
      const l = raw.replace(ANSI, '').trim();
      if (!l) return;
      const bar = /^Copying (?:blob|config) ([0-9a-f]{10,12})\b.*?([\d.]+\s*[KMG]?i?B|[\d.]+b) \/ ([\d.]+\s*[KMG]?i?B|[\d.]+b)/.exec(l);
      const fin = /^Copying (?:blob|config) ([0-9a-f]{10,12}) (done|skipped: already exists)/.exec(l);
      if (fin) o.progress.blob(fin[1], Infinity, true);
      else if (bar) o.progress.blob(bar[1], bytesOf(bar[2]), false);
      const key = bar ? `${bar[1]}` : l;
      if (!bar && !seen.has(key)) {
        seen.add(key);
        o.progress.line(l);
      }
    };
    proc.onData((d) => {
      out = (out + d).slice(-64 * 1024);
      const parts = (partial + d).split(/\r|\n/);
      partial = parts.pop() ?? '';
      parts.forEach(onLine);
    });
    const onAbort = () => proc.close();
    o.signal.addEventListener('abort', onAbort, { once: true });
    proc.onExit((code) => {
      o.signal.removeEventListener('abort', onAbort);
      onLine(partial);
      if (o.signal.aborted) reject(new Error('The pull was cancelled.'));
      else if (code === 0) resolve();
      else reject(skopeoError(out, ref, { sentCredentials: o.creds }));
    });
  });
}

/** Credentials checked against the registry (`skopeo login` into a scratch file): throws "login failed for HOST". */
export async function checkLogin(p: OciPaths, host: string, user: string, password: string, a: RegistryAccess, scratchAuth: string): Promise<void> {
  const argv = ['skopeo', 'login', '--authfile', scratchAuth, `--tls-verify=${a.insecure ? 'false' : 'true'}`, ...(a.certDir ? ['--cert-dir', a.certDir] : [])];
  const r = await run([...argv, '-u', user, '--password-stdin', host], { input: password, env: skopeoEnv(p), timeoutMs: 60_000 });
  if (r.code === 0) return;
  const ref = { registry: host, repository: '', tag: null, digest: null, full: host };
  throw skopeoError(r.stderr, ref, { sentCredentials: true });
}

/** An image out of Hangar's store (c/storage keeps layers that other images use). */
export async function deleteFromStore(p: OciPaths, digest: string): Promise<void> {
  await run(['skopeo', '--policy', p.policy, 'delete', storageRef(p, digest)], { env: skopeoEnv(p), timeoutMs: 120_000 });
}

/**
 * An image of this store as a docker-archive in `file` (layers as the plain tars c/storage keeps, nothing
 * recompressed), for another node's copy: its config blob goes as it is, so the image keeps its id there.
 */
export async function exportFromStore(p: OciPaths, digest: string, file: string, tmp: string, signal?: AbortSignal): Promise<void> {
  const r = await run(['skopeo', '--policy', p.policy, '--tmpdir', tmp, 'copy', '--quiet', storageRef(p, digest), `docker-archive:${file}`], {
    env: skopeoEnv(p),
    timeoutMs: 30 * 60_000,
    signal,
  });
  if (r.code !== 0) throw new Error(`skopeo could not export image ${digest} from the store: ${lastLine(r.stderr)}`);
}

/** Another node's docker-archive of an image into this store, named by the image's manifest digest there (the caller checks what it unpacked). */
export async function importToStore(p: OciPaths, digest: string, file: string, tmp: string, signal?: AbortSignal): Promise<void> {
  const r = await run(['skopeo', '--policy', p.policy, '--tmpdir', tmp, 'copy', '--quiet', `docker-archive:${file}`, storageRef(p, digest)], {
    env: skopeoEnv(p),
    timeoutMs: 30 * 60_000,
    signal,
  });
  if (r.code !== 0) throw new Error(`skopeo could not import the copy of image ${digest}: ${lastLine(r.stderr)}`);
}

const lastLine = (text: string) =>
  text
    .trim()
    .split('\n')
    .pop()
    ?.replace(/^time="[^"]*" level=\w+ msg=/, '') || 'no message';

/** One cheap store operation after a failed copy: c/storage drops layers it marked incomplete when it loads. */
export async function touchStore(p: OciPaths): Promise<void> {
  await run(['skopeo', '--policy', p.policy, 'inspect', '--raw', storageRef(p, `sha256:${'0'.repeat(64)}`)], { env: skopeoEnv(p), timeoutMs: 60_000 });
}
