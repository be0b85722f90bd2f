import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, type ApiClient } from '@/lib/api-client';
import { run } from '@/server/drivers/exec';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';
import { busyboxRoot, writeLayout } from './oci-registry';

/**
 * Images from archives, no registry: what `docker save` / `podman save` write (docker-archive),
 * an OCI layout in a tar (oci-archive) and an OCI layout directory, uploaded by the CLI and
 * imported through skopeo with the same checks as a pull; the archive's own names find it later.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let tmp: string;
const policy = () => path.join(tmp, 'policy.json');

const cli = (args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { timeoutMs: 90_000, env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token } });
const skopeo = async (from: string, to: string) => {
  const r = await run(['skopeo', '--policy', policy(), 'copy', '--quiet', from, to], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`skopeo copy ${from} ${to}: ${r.stderr}`);
};
const ociImages = async () => (await api.images.list()).items.filter((i) => i.kind === 'oci');
const storedLayers = () => (JSON.parse(fs.readFileSync(path.join(srv.dataDir, 'oci/storage/overlay-layers/layers.json'), 'utf8')) as unknown[]).length;
const leftovers = () => fs.readdirSync(path.join(srv.dataDir, 'tmp')).filter((e) => e.startsWith('import-'));

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-ociar-'));
  fs.writeFileSync(policy(), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  const base = busyboxRoot(path.join(tmp, 'l-base'));
  const extra = path.join(tmp, 'l-extra');
  fs.mkdirSync(path.join(extra, 'etc'), { recursive: true });
  fs.writeFileSync(path.join(extra, 'etc/motd'), 'from an oci layout\n');
  writeLayout(path.join(tmp, 'layout'), [
    { tag: 'base', layers: [base], config: { Entrypoint: ['/bin/sh', '-c'], Cmd: ['echo "archive says $GREETING"'], Env: ['PATH=/bin', 'GREETING=hello'] } },
    { tag: 'motd', layers: [base, extra], config: { Cmd: ['/bin/cat', '/etc/motd'], Env: ['PATH=/bin'] } },
  ]);
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
}, 120_000);

afterAll(async () => {
  await tearDown(srv, api);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('image archives', () => {
  it('imports a docker save archive; its RepoTags then name the image, so run works without a registry', async () => {
    const file = path.join(tmp, 'saved.tar');
    await skopeo(`oci:${path.join(tmp, 'layout')}:base`, `docker-archive:${file}:example.org/team/arch:v1`);
    const r = await cli(['pull', `docker-archive:${file}`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^docker-archive:saved\.tar: image oci-[0-9a-f]{12} \(sha256:/);
    const [img] = await ociImages();
    expect(img.recipe).toMatchObject({ source: 'docker-archive:saved.tar', refs: ['example.org/team/arch:v1'] });
    const ran = await cli(['run', '--rm', 'example.org/team/arch:v1']);
    expect([ran.code, ran.stdout.trim()]).toEqual([0, 'archive says hello']);
    // The archive itself with a command (its entrypoint is sh -c): uploaded by the CLI (the same digest: reused), then run.
    const fromFile = await cli(['run', '--rm', `docker-archive:${file}`, '--', 'echo from the file']);
    expect([fromFile.code, fromFile.stdout], fromFile.stderr).toEqual([0, 'from the file\n']);
    expect(leftovers()).toEqual([]);
  });

  it('run -it puts the image (here its CMD) on a tty, like docker run -it: typed into, exit code through, removed with --rm', async () => {
    const before = (await api.machines.list()).items.length;
    // `script` gives the CLI a terminal, as a person's would be.
    const r = await run(['script', '-qec', `${process.execPath} dist/cli.js run -it --rm example.org/team/arch:v1 -- sh`, '/dev/null'], {
      input: 'echo inside-$((6*7))\nexit 5\n',
      timeoutMs: 90_000,
      env: { HANGAR_URL: srv.url, HANGAR_TOKEN: token },
    });
    expect(r.stdout).toContain('inside-42');
    expect(r.code, r.stdout + r.stderr).toBe(5);
    expect((await api.machines.list()).items.length).toBe(before);
  });

  it('imports an OCI layout directory (the CLI tars it on the way) and reuses the digest for the same image as an oci-archive', async () => {
    const dir = path.join(tmp, 'one');
    await skopeo(`oci:${path.join(tmp, 'layout')}:motd`, `oci:${dir}:motd`);
    const first = await cli(['pull', '--json', `oci:${dir}`]);
    expect(first.code, first.stderr).toBe(0);
    const made = JSON.parse(first.stdout) as { image: string; digest: string; reused: boolean };
    expect(made.reused).toBe(false);
    const archive = path.join(tmp, 'motd.tar');
    await skopeo(`oci:${dir}:motd`, `oci-archive:${archive}`);
    const job = await jobDone(api, await api.images.importArchive(fs.readFileSync(archive), 'motd.tar'));
    expect(job.result).toMatchObject({ image: made.image, digest: made.digest, reused: true });
    const ran = await cli(['run', '--rm', made.image]);
    expect([ran.code, ran.stdout]).toEqual([0, 'from an oci layout\n']);
    expect(leftovers()).toEqual([]);
  });

  it('refuses what is no image archive, an archive of two images, and a corrupt layer: clear errors, nothing left behind', async () => {
    const before = { layers: storedLayers(), images: (await ociImages()).length };
    const notTar = await api.images.importArchive('this is not a tar', 'notes.txt').catch((e: unknown) => e);
    expect(notTar).toBeInstanceOf(ApiError);
    expect([(notTar as ApiError).status, (notTar as ApiError).message]).toEqual([400, expect.stringMatching(/^notes\.txt: not a tar archive/)]);

    const two = path.join(tmp, 'two.tar');
    await run(['tar', '-C', path.join(tmp, 'layout'), '-cf', two, '.']);
    const r = await cli(['pull', `oci-archive:${two}`]);
    expect([r.code, r.stderr]).toEqual([1, expect.stringContaining('two.tar: the OCI layout holds 2 images; Hangar imports an archive of one')]);

    // An image of its own (not imported yet), then bytes of its top layer flipped (same size: only the digest tells).
    const junk = path.join(tmp, 'l-junk');
    fs.mkdirSync(junk);
    fs.writeFileSync(path.join(junk, 'junk.bin'), crypto.randomBytes(200_000));
    const bad = path.join(tmp, 'bad');
    writeLayout(bad, [{ tag: 'junk', layers: [path.join(tmp, 'l-base'), junk], config: { Cmd: ['/bin/true'] } }]);
    const index = JSON.parse(fs.readFileSync(path.join(bad, 'index.json'), 'utf8')) as { manifests: { digest: string }[] };
    const manifest = JSON.parse(fs.readFileSync(path.join(bad, 'blobs/sha256', index.manifests[0].digest.slice(7)), 'utf8')) as {
      layers: { digest: string }[];
    };
    const blob = path.join(bad, 'blobs/sha256', manifest.layers[1].digest.slice(7));
    const bytes = fs.readFileSync(blob);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    fs.writeFileSync(blob, bytes);
    const corrupt = await cli(['pull', `oci:${bad}`]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/a layer of oci-archive:bad\.tar is corrupt \(gzip: invalid checksum\); nothing was imported/);
    expect({ layers: storedLayers(), images: (await ociImages()).length }).toEqual(before);
    expect(leftovers()).toEqual([]);
  });

  it('hangar gc deletes store entries no image names (a pull cut off before its record) and keeps every named image', async () => {
    const images = await ociImages();
    const orphan = path.join(tmp, 'orphan');
    const junk = path.join(tmp, 'l-orphan');
    fs.mkdirSync(junk);
    fs.writeFileSync(path.join(junk, 'orphan.bin'), crypto.randomBytes(300_000));
    writeLayout(orphan, [{ tag: 'o', layers: [path.join(tmp, 'l-base'), junk], config: { Cmd: ['/bin/true'] } }]);
    const digest = (JSON.parse(fs.readFileSync(path.join(orphan, 'index.json'), 'utf8')) as { manifests: { digest: string }[] }).manifests[0].digest;
    const store = `containers-storage:[overlay@${path.join(srv.dataDir, 'oci/storage')}+${path.join(srv.dataDir, 'oci/run')}]`;
    const env = { CONTAINERS_STORAGE_CONF: path.join(srv.dataDir, 'oci/storage.conf') };
    const copied = await run(['skopeo', '--policy', policy(), 'copy', '--quiet', `oci:${orphan}:o`, `${store}hangar.local/oci:${digest.slice(7)}`], {
      env,
      timeoutMs: 60_000,
    });
    expect(copied.code, copied.stderr).toBe(0);
    const layers = storedLayers();
    const r = await cli(['gc', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ removedImages: 1, freedBytes: expect.any(Number) });
    expect(JSON.parse(r.stdout).freedBytes).toBeGreaterThanOrEqual(300_000);
    expect(storedLayers()).toBe(layers - 1);
    expect(await ociImages()).toEqual(images);
    const ran = await cli(['run', '--rm', 'example.org/team/arch:v1']);
    expect([ran.code, ran.stdout.trim()]).toEqual([0, 'archive says hello']);
  });
});
