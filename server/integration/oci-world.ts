import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { inject } from 'vitest';
import { AUTH, blobFile, busyboxRoot, push, writeLayout, type RegistryInfo, type TestImage } from './oci-registry';

export { AUTH };

/** The run's registries (global-setup.ts): a file pushes its own images there and leaves the registries running. */
export const sharedRegistries = (): { http: RegistryInfo; tls: RegistryInfo } => inject('registries');

export interface OciWorld {
  dir: string;
  http: RegistryInfo;
  tls: RegistryInfo;
  /** The manifest digest of each tag as pushed. */
  digests: Record<string, string>;
}

/**
 * The run's two registries (plain HTTP; TLS + basic auth: global-setup.ts) and the test images, pushed by this file, built here from busybox-static:
 * `base` (entrypoint, env, workdir, numeric user), `derived` (the same first layer + one with a
 * whiteout, a named user, a workdir the image lacks, exit 3), `server` (long-running), `arm`
 * (arm64), `corrupt` (its own layer, damaged in the registry after the push), `secure` (TLS only).
 */
export async function ociWorld(dir: string): Promise<OciWorld> {
  fs.mkdirSync(dir, { recursive: true });
  const { http, tls } = sharedRegistries();
  const base = busyboxRoot(path.join(dir, 'l-base'));
  const own = (name: string, files: Record<string, Buffer | string>) => {
    const d = path.join(dir, name);
    for (const [f, body] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
      fs.writeFileSync(path.join(d, f), body);
    }
    return d;
  };
  // `.wh.wc`: an OCI whiteout, /bin/wc is gone in the derived image.
  const extra = own('l-extra', { 'app/data': randomBytes(65536), 'etc/motd': 'extra\n', 'bin/.wh.wc': '' });
  const images: TestImage[] = [
    {
      tag: 'base',
      layers: [base],
      config: {
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo "hi from $GREETING in $(pwd) as $(id -u):$(id -g)"'],
        Env: ['PATH=/bin', 'GREETING=hangar'],
        WorkingDir: '/app',
        User: '1000:1000',
        ExposedPorts: { '8080/tcp': {} },
        Labels: { 'org.example.name': 'busybox-test' },
      },
    },
    {
      tag: 'derived',
      layers: [base, extra],
      config: {
        Cmd: ['/bin/sh', '-c', 'echo "derived as $(id -u) groups $(id -G) in $(pwd) home $HOME"; ls /bin/wc; exit 3'],
        Env: ['PATH=/bin'],
        User: 'app',
        WorkingDir: '/work',
      },
    },
    { tag: 'server', layers: [base], config: { Cmd: ['/bin/sh', '-c', 'echo server up; exec sleep 600'], Env: ['PATH=/bin'] } },
    { tag: 'arm', layers: [own('l-arm', { x: 'arm' })], architecture: 'arm64', config: { Cmd: ['/x'] } },
    { tag: 'corrupt', layers: [base, own('l-corrupt', { 'junk.bin': randomBytes(200_000) })], config: { Cmd: ['/bin/true'] } },
    { tag: 'secure', layers: [base, own('l-secure', { 'etc/secure': 'tls only\n' })], config: { Cmd: ['/bin/cat', '/etc/secure'], Env: ['PATH=/bin'] } },
  ];
  const layout = path.join(dir, 'layout');
  writeLayout(layout, images);
  const index = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')) as {
    manifests: { digest: string; annotations: Record<string, string> }[];
  };
  const digests = Object.fromEntries(index.manifests.map((m) => [m.annotations['org.opencontainers.image.ref.name'], m.digest]));
  const repo: Record<string, string> = {
    base: 'test/busybox:base',
    derived: 'test/busybox:derived',
    server: 'test/server:1',
    arm: 'test/arm:latest',
    corrupt: 'test/corrupt:latest',
  };
  for (const [tag, r] of Object.entries(repo)) push(layout, tag, http, r);
  // A one-word repository, for a bare `NAME` against the default registry.
  push(layout, 'server', http, 'plain:latest');
  push(layout, 'secure', tls, 'test/secure:1', AUTH);
  // Damage the corrupt image's own layer in the registry (same size: only the digest tells).
  const manifest = JSON.parse(fs.readFileSync(path.join(layout, 'blobs/sha256', digests.corrupt.slice(7)), 'utf8')) as { layers: { digest: string }[] };
  const blob = blobFile(http, manifest.layers[1].digest);
  const fd = fs.openSync(blob, 'r+');
  fs.writeSync(fd, Buffer.from('HANGAR'), 0, 6, 1000);
  fs.closeSync(fd);
  return { dir, http, tls, digests };
}
