import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';

/**
 * The test tier's registries and images: Debian's docker-registry on 127.0.0.1 with a config and
 * storage of its own and a port the kernel picks (plain HTTP, or TLS with a CA made here and
 * htpasswd basic auth), and OCI images written here from directories and pushed with skopeo.
 * Nothing is downloaded.
 */
export interface TestRegistry {
  /** 127.0.0.1:PORT */
  host: string;
  dir: string;
  /** Where the registry keeps blobs (to corrupt one). */
  storage: string;
  /** For TLS: a dir with ca.crt (skopeo's --cert-dir), the CA's PEM, and the htpasswd file. */
  caDir: string | null;
  caPem: string | null;
  htpasswd: string | null;
  stop(): Promise<void>;
}

/** The user and password of the run's TLS registry. */
export const AUTH = { user: 'alice', password: 's3cret-registry-pw' };

/** A registry as the run's global setup hands it to the test files (started and stopped there). */
export type RegistryInfo = Omit<TestRegistry, 'stop'>;

const sh = (argv: string[], opts: { input?: string; cwd?: string } = {}) => {
  const r = spawnSync(argv[0], argv.slice(1), { input: opts.input, cwd: opts.cwd, maxBuffer: 256 * 2 ** 20 });
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr?.toString() || r.error?.message}`);
  return r.stdout;
};

/** A user and password in a bcrypt htpasswd file (the registry takes bcrypt only). */
export const writeHtpasswd = (file: string, user: string, password: string) => fs.writeFileSync(file, sh(['htpasswd', '-Bbn', user, password]));

function makeTls(dir: string): { caDir: string; caPem: string; cert: string; key: string } {
  const caDir = path.join(dir, 'ca');
  fs.mkdirSync(caDir, { recursive: true });
  const ca = (f: string) => path.join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  sh(['openssl', 'req', '-x509', ...ec, '-days', '2', '-subj', '/CN=hangar-test-ca', '-keyout', ca('ca.key'), '-out', path.join(caDir, 'ca.crt')]);
  sh(['openssl', 'req', ...ec, '-subj', '/CN=127.0.0.1', '-keyout', ca('server.key'), '-out', ca('server.csr')]);
  fs.writeFileSync(
    ca('ext.cnf'),
    'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  sh(
    ['openssl', 'x509', '-req', '-in', ca('server.csr'), '-CA', path.join(caDir, 'ca.crt'), '-CAkey', ca('ca.key'), '-CAcreateserial', '-days', '2'].concat([
      '-extfile',
      ca('ext.cnf'),
      '-out',
      ca('server.crt'),
    ]),
  );
  return { caDir, caPem: fs.readFileSync(path.join(caDir, 'ca.crt'), 'utf8'), cert: ca('server.crt'), key: ca('server.key') };
}

export async function startRegistry(dir: string, opts: { auth?: { user: string; password: string } } = {}): Promise<TestRegistry> {
  fs.mkdirSync(dir, { recursive: true });
  const storage = path.join(dir, 'storage');
  const tls = opts.auth ? makeTls(dir) : null;
  const htpasswd = opts.auth ? path.join(dir, 'htpasswd') : null;
  if (opts.auth && htpasswd) writeHtpasswd(htpasswd, opts.auth.user, opts.auth.password);
  const config = [
    'version: 0.1',
    'log: { level: info, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${JSON.stringify(storage)} }, delete: { enabled: true } }`,
    'http:',
    '  addr: 127.0.0.1:0',
    '  secret: hangar-test-secret',
    ...(tls ? [`  tls: { certificate: ${JSON.stringify(tls.cert)}, key: ${JSON.stringify(tls.key)} }`] : []),
    ...(htpasswd ? [`auth: { htpasswd: { realm: hangar-test, path: ${JSON.stringify(htpasswd)} } }`] : []),
  ].join('\n');
  fs.writeFileSync(path.join(dir, 'config.yml'), `${config}\n`);
  const proc: ChildProcess = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`docker-registry did not start:\n${log}`)), 20_000);
    const take = (b: Buffer) => {
      log += b.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
      if (m) {
        clearTimeout(t);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', take);
    proc.stderr!.on('data', take);
    proc.once('exit', (code) => reject(new Error(`docker-registry exited with ${code}:\n${log}`)));
  });
  return {
    host: `127.0.0.1:${port}`,
    dir,
    storage,
    caDir: tls?.caDir ?? null,
    caPem: tls?.caPem ?? null,
    htpasswd,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        process.kill(-proc.pid!, 'SIGTERM');
      }),
  };
}

/**
 * The TLS registry reached at another address of this host (`ip`, e.g. the host's end of a node's veth pair, for a node
 * in a network namespace of its own, whose 127.0.0.1 is not the registry's): TLS ended here with a certificate for `ip`
 * from the registry's own CA (so the CA a test sets for the registry still verifies it), and the requests passed on to
 * the registry over TLS.
 */
export async function relayRegistry(reg: RegistryInfo, ip: string): Promise<{ host: string; close(): Promise<void> }> {
  if (!reg.caDir || !reg.caPem) throw new Error('relayRegistry: a TLS registry only');
  const f = (name: string) => path.join(reg.dir, `relay-${ip}-${name}`);
  sh(['openssl', 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${ip}`, '-keyout', f('key'), '-out', f('csr')]);
  fs.writeFileSync(f('ext'), `subjectAltName=IP:${ip}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  const caKey = path.join(reg.dir, 'ca.key');
  sh([
    'openssl',
    'x509',
    '-req',
    '-in',
    f('csr'),
    '-CA',
    path.join(reg.caDir, 'ca.crt'),
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext'),
    '-out',
    f('crt'),
  ]);
  const [host, port] = reg.host.split(':');
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({ cert: fs.readFileSync(f('crt')), key: fs.readFileSync(f('key')) }, (down) => {
    const up = tls.connect({ host, port: Number(port), ca: reg.caPem! });
    for (const s of [down, up]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    down.pipe(up).pipe(down);
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  return {
    host: `${ip}:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        server.close(() => resolve());
      }),
  };
}

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

export interface TestImage {
  tag: string;
  /** Directories, one layer each, lowest first (the same directory twice: the same blob). */
  layers: string[];
  config: Record<string, unknown>;
  architecture?: string;
}

/** An OCI image layout with these images (tags in index.json), layers as gzip'd tars of the directories (owners kept). */
export function writeLayout(layout: string, images: TestImage[]): void {
  fs.mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const put = (b: Buffer | string) => {
    const d = sha(b);
    fs.writeFileSync(path.join(layout, 'blobs', 'sha256', d.slice(7)), b);
    return { digest: d, size: Buffer.byteLength(b) };
  };
  const layerCache = new Map<string, { blob: { digest: string; size: number }; diffId: string }>();
  const manifests = images.map((img) => {
    const layers = img.layers.map((dir) => {
      let l = layerCache.get(dir);
      if (!l) {
        const tar = sh(['tar', '--numeric-owner', '--sort=name', '--mtime=@0', '-C', dir, '-cf', '-', '.']);
        l = { blob: put(gzipSync(tar)), diffId: sha(tar) };
        layerCache.set(dir, l);
      }
      return l;
    });
    const config = put(
      JSON.stringify({
        created: '2026-01-02T03:04:05Z',
        architecture: img.architecture ?? 'amd64',
        os: 'linux',
        config: img.config,
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
        history: layers.map(() => ({ created: '2026-01-02T03:04:05Z', created_by: 'hangar test' })),
      }),
    );
    const manifest = put(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l.blob })),
      }),
    );
    return { mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': img.tag } };
  });
  fs.writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  fs.writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests }));
}

/** skopeo copy of one tag of the layout to the registry (TLS: its CA and the user's credentials). */
export function push(layout: string, tag: string, reg: RegistryInfo, repo: string, auth?: { user: string; password: string }): void {
  const policy = path.join(layout, '..', 'policy.json');
  if (!fs.existsSync(policy)) fs.writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const access = reg.caDir ? ['--dest-cert-dir', reg.caDir, '--dest-creds', `${auth!.user}:${auth!.password}`] : ['--dest-tls-verify=false'];
  sh(['skopeo', '--policy', policy, 'copy', '--quiet', ...access, `oci:${layout}:${tag}`, `docker://${reg.host}/${repo}`]);
}

/** The registry's file of a blob (to corrupt it in place). */
export const blobFile = (reg: RegistryInfo, digest: string) =>
  path.join(reg.storage, 'docker/registry/v2/blobs/sha256', digest.slice(7, 9), digest.slice(7), 'data');

/** A busybox-static root: sh and friends as links, root and app (1000) in passwd and group, /app owned by app. */
export function busyboxRoot(dir: string): string {
  for (const d of ['bin', 'etc', 'app', 'tmp']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  for (const t of ['sh', 'cat', 'echo', 'id', 'pwd', 'ls', 'true', 'false', 'env', 'sleep', 'wc', 'head', 'sha256sum', 'printf', 'test'])
    fs.symlinkSync('busybox', path.join(dir, 'bin', t));
  fs.writeFileSync(path.join(dir, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/app:/bin/sh\n');
  fs.writeFileSync(path.join(dir, 'etc/group'), 'root:x:0:\napp:x:1000:\nstaff:x:50:app\n');
  fs.chownSync(path.join(dir, 'app'), 1000, 1000);
  fs.chmodSync(path.join(dir, 'tmp'), 0o1777);
  return dir;
}
