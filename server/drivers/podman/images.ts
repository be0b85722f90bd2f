import fs from 'node:fs';
import path from 'node:path';
import { firstLine, run } from '../exec';
import { ociArgv } from '../oci/bundle';
import { skopeoError, SkopeoError } from '../oci/skopeo';
import type { BootFiles, DriverResult, MachineSpec, OciPullSource } from '../types';
import { podman } from './cli';
import { podmanRuntime } from './runtime';

/** Tagged by the root filesystem's identity: a rebuilt Hangar image gets a new podman image, never a stale one. */
export const imageRef = (rootfs: string) => {
  const st = fs.statSync(rootfs);
  return `localhost/hangar-${path.basename(path.dirname(rootfs))}:${Math.floor(st.mtimeMs).toString(36)}-${st.ino.toString(36)}`;
};

/** A Hangar-built root filesystem as a podman image (`podman import`), once per Hangar image; older imports of it go. */
export async function importRootfs(rootfs: string): Promise<string> {
  const ref = imageRef(rootfs);
  const has = await run([...(await podman()), 'image', 'exists', ref], { timeoutMs: 30_000 });
  if (has.code === 0) return ref;
  const tar = await run(['sh', '-c', 'dir=$1; shift; tar -C "$dir" -c . | "$@"', 'import', rootfs, ...(await podman()), 'import', '-', ref], {
    timeoutMs: 10 * 60_000,
  });
  if (tar.code !== 0) throw new Error(`podman import failed: ${firstLine(tar.stderr) || `exit ${tar.code}`}`);
  // Imports of earlier builds of this image go, unless a container still uses them (then rmi refuses).
  const repo = ref.slice(0, ref.lastIndexOf(':'));
  const tags = await run([...(await podman()), 'images', '--format', '{{.Repository}}:{{.Tag}}', repo], { timeoutMs: 30_000 });
  for (const old of tags.stdout.split('\n').filter((t) => t && t !== ref)) await run([...(await podman()), 'rmi', old], { timeoutMs: 60_000 });
  return ref;
}

/**
 * The podman images made of a Hangar image that is being deleted: its pull by digest, or every
 * import of its root filesystem. podman refuses to remove one a container still uses (that one
 * stays); a host without podman has none.
 */
export async function forgetPodmanCopies(image: BootFiles): Promise<void> {
  const cmd = await podman().catch(() => null);
  if (!cmd) return;
  let refs: string[] = [];
  if (image.oci?.pull) refs = [image.oci.pull.ref];
  else if (image.kind !== 'oci' && image.rootfs) {
    // By the image's name alone (imageRef's repository): its root filesystem may be gone already.
    const repo = `localhost/hangar-${path.basename(path.dirname(image.rootfs))}`;
    const tags = await run([...cmd, 'images', '--format', '{{.Repository}}:{{.Tag}}', repo], { timeoutMs: 30_000 });
    refs = tags.stdout.split('\n').filter(Boolean);
  }
  for (const ref of refs) await run([...cmd, 'rmi', ref], { timeoutMs: 60_000 });
}

/** podman's refusal in the words of Hangar's own pull (unknown image, login failed, TLS...), naming the pinned ref. */
function pullError(stderr: string, src: OciPullSource, sentCredentials: boolean): SkopeoError {
  const ref = { registry: src.registry, repository: '', tag: null, digest: null, full: src.ref };
  const e = skopeoError(stderr, ref, { sentCredentials });
  return e.kind === 'other' ? new SkopeoError('other', `podman pull of ${src.ref} failed: ${firstLine(stderr).slice(0, 300) || 'no message'}`) : e;
}

/**
 * `podman pull` of the image by the digest Hangar resolved (both drivers run the same bytes), with
 * the registry's auth file for this call only (never on the argv), TLS verification off only for a
 * registry marked insecure, its CA dir when set. An image podman holds already is not fetched again.
 */
export async function pullPinned(src: OciPullSource): Promise<boolean> {
  const pod = await podman();
  if ((await run([...pod, 'image', 'exists', src.ref], { timeoutMs: 30_000 })).code === 0) return false;
  const { r, creds } = await src.withAccess(async (a) => {
    const tls = [`--tls-verify=${!a.insecure}`, ...(a.certDir ? ['--cert-dir', a.certDir] : [])];
    return { r: await run([...pod, 'pull', '--quiet', '--authfile', a.authFile, ...tls, src.ref], { timeoutMs: 30 * 60_000 }), creds: a.creds };
  });
  if (r.code !== 0)
    throw r.timedOut ? new SkopeoError('unreachable', `podman pull of ${src.ref} did not finish within 30 min`) : pullError(r.stderr, src, creds);
  return true;
}

const list = (v: unknown): string[] | null => (Array.isArray(v) && v.length > 0 ? v.map(String) : null);

/**
 * An application container of an OCI image from its registry: podman's own pull, then podman runs
 * it as podman does (its Entrypoint, Cmd, Env, WorkingDir, User); the command and entrypoint given
 * go to podman as they are. The machine shows what will run.
 */
export async function createFromRegistry(m: MachineSpec, image: BootFiles, src: OciPullSource): Promise<DriverResult> {
  const args = list(m.runtime.command);
  const entrypoint = list(m.runtime.entrypoint);
  const command = ociArgv(image.oci?.config ?? {}, args, entrypoint);
  const fetched = await pullPinned(src);
  fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
  const network = podmanRuntime(m.runtime).network === 'host' ? 'host' : 'private';
  return {
    runtime: { image: src.ref, network, ssh: false, command, oci: { entrypoint, args } },
    log: [`${fetched ? 'pulled by podman' : 'held by podman already'}: ${src.ref} (image ${image.image})`],
  };
}

/** What follows the options of `podman run`: an OCI image's entrypoint option, the image, and the arguments it is given. */
export function runTail(m: Pick<MachineSpec, 'runtime'>, ref: string, fallback: string[]): string[] {
  const rt = podmanRuntime(m.runtime);
  if (rt.oci) return [...(rt.oci.entrypoint ? ['--entrypoint', JSON.stringify(rt.oci.entrypoint)] : []), ref, ...(rt.oci.args ?? [])];
  return [ref, ...(rt.command?.length ? rt.command : fallback)];
}
