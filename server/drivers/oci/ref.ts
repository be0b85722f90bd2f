/**
 * Image references as docker and skopeo read them: `docker://HOST[:PORT]/NAME[:TAG|@sha256:HEX]`
 * or a bare `NAME[:TAG]`. A first component with a dot, a colon or `localhost` is a registry;
 * otherwise the name is on the default registry (Settings), and on docker.io a one-component
 * name is under `library/`. A tag and a digest together: the digest wins (skopeo 1.9 refuses both).
 */
export interface ImageRef {
  /** host[:port], as skopeo and the credentials file name it. */
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
  /** registry/repository:tag or registry/repository@digest: what Hangar stores and shows (for an archive, its format and file name). */
  full: string;
  /** A local archive instead of a registry: skopeo's reference to it (`oci-archive:/path`, `docker-archive:/path`). */
  archive?: string;
}

const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

export class RefError extends Error {}

/** A registry host as given in Settings or on `hangar registry login` (host[:port], no scheme, no path). */
export function checkRegistryHost(host: string): string {
  if (!HOST.test(host) || host.length > 255) throw new RefError(`not a registry host: "${host}" (host or host:port, like registry.example.org:5000)`);
  return host.toLowerCase();
}

export function parseImageRef(input: string, defaultRegistry = 'docker.io'): ImageRef {
  const bad = (why: string) => new RefError(`not an image reference: "${input.slice(0, 200)}" (${why})`);
  if (input.length > 512) throw bad('too long');
  let rest = input.startsWith('docker://') ? input.slice('docker://'.length) : input;
  if (/[\s\0]/.test(rest) || rest === '') throw bad('empty or with spaces');
  let digest: string | null = null;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw bad('a digest is sha256: and 64 hex digits');
  }
  const parts = rest.split('/');
  let registry = checkRegistryHost(defaultRegistry);
  if (parts.length > 1 && (parts[0].includes('.') || parts[0].includes(':') || parts[0] === 'localhost')) {
    if (!HOST.test(parts[0])) throw bad(`registry "${parts[0]}"`);
    registry = parts.shift()!.toLowerCase();
  }
  let tag: string | null = null;
  const last = parts[parts.length - 1];
  const colon = last.indexOf(':');
  if (colon >= 0) {
    tag = last.slice(colon + 1);
    parts[parts.length - 1] = last.slice(0, colon);
    if (!TAG.test(tag)) throw bad(`tag "${tag.slice(0, 130)}"`);
  }
  for (const p of parts) if (!COMPONENT.test(p)) throw bad(`name component "${p.slice(0, 130)}": lowercase letters, digits and . _ - between them`);
  if (registry === 'docker.io' && parts.length === 1) parts.unshift('library');
  const repository = parts.join('/');
  if (repository.length > 255) throw bad('name too long');
  if (digest) tag = null;
  else tag ??= 'latest';
  const full = `${registry}/${repository}${digest ? `@${digest}` : `:${tag}`}`;
  return { registry, repository, tag, digest, full };
}

/** The reference skopeo reads: the registry's (docker transport; a manifest by digest when given) or the archive's (one image). */
export const sourceRef = (r: ImageRef, digest?: string) =>
  r.archive ?? `docker://${r.registry}/${r.repository}${digest ? `@${digest}` : r.digest ? `@${r.digest}` : `:${r.tag}`}`;
