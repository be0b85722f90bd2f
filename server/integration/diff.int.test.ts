import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { DiffResult } from '@/lib/contracts/diff';
import type { Job } from '@/lib/contracts/jobs';
import { diffDisks, openDisk } from '@/server/core/diff/disk-diff';
import { run } from '@/server/drivers/exec';
import { busyboxTree } from './busybox-tree';
import { editQcow2 } from './qcow2-edit';
import { adminToken, client, jobDone, startServer, tearDown, type RunningServer } from './harness';

/**
 * Snapshot diff on real layers and disks: an nspawn container (a busybox root filesystem) changed
 * between two checkpoints (written, appended, removed, chmodded, a directory removed), diffed
 * through the API exactly; the machine now against its snapshot; a qcow2 chain with an ext4
 * filesystem (made here with mkfs.ext4 -d, an overlay changed the same way) read through
 * qemu-storage-daemon and debugfs; bad references and mixed drivers refused.
 */
let srv: RunningServer;
let api: ApiClient;
let token: string;
let tmp: string;
const finished = async (job: Job, ms = 300_000) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const sh = async (m: string, script: string) => {
  const r = await api.machines.exec(m, ['/bin/sh', '-c', script]);
  if (r.code !== 0) throw new Error(`${script}: ${r.stderr}`);
};
const checkpoint = async (m: string, label: string) => ((await finished(await api.snapshots.checkpoint(m, label))).result as { snapshot: string }).snapshot;
const get = async (url: string) => {
  const res = await fetch(`${srv.url}/api${url}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as DiffResult & { error?: { code: string; message: string } } };
};
const summary = (d: DiffResult) => d.entries.map((e) => `${e.change} ${e.path}${e.fields.length ? ` ${e.fields.join(',')}` : ''}`);

function diffTree(dir: string): void {
  busyboxTree(dir);
  fs.writeFileSync(path.join(dir, 'etc/motd'), 'hello\n');
  // A directory of the image the container replaces: overlayfs marks the new one opaque.
  fs.mkdirSync(path.join(dir, 'opt/old'), { recursive: true });
  for (const f of ['a', 'b']) fs.writeFileSync(path.join(dir, 'opt/old', f), `${f}\n`);
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-diff-'));
  diffTree(path.join(tmp, 'tree'));
  await run(['tar', '--numeric-owner', '-C', path.join(tmp, 'tree'), '-cf', path.join(tmp, 'bb.tar'), '.']);
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  await finished(await api.images.importRootfs(new Uint8Array(fs.readFileSync(path.join(tmp, 'bb.tar'))), { name: 'bb-diff', file: 'bb.tar' }));
  await finished(await api.machines.create({ name: 'df-ct', image: 'bb-diff', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] }));
}, 300_000);

afterAll(async () => {
  await tearDown(srv, api);
  fs.rmSync(tmp, { recursive: true, force: true });
}, 120_000);

describe('snapshot diff', () => {
  let one: string;
  let two: string;

  it('lists exactly what changed between two container checkpoints, whiteouts and opaque directories understood', async () => {
    await sh('df-ct', 'echo one > /etc/a.txt; echo keep > /etc/b.txt; mkdir -p /data/sub; echo x > /data/sub/x; sync');
    one = await checkpoint('df-ct', 'df-one');
    await sh('df-ct', 'echo two >> /etc/a.txt; rm /etc/motd; chmod 600 /etc/b.txt; echo new > /etc/c.txt; rm -r /data; sync');
    await sh('df-ct', 'rm -r /opt/old; mkdir /opt/old; echo c > /opt/old/c; sync');
    two = await checkpoint('df-ct', 'df-two');
    const { status, body } = await get(`/snapshots/df-one/diff/${two}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ driver: 'nspawn', method: 'layers', sameImage: true, truncated: false, counts: { added: 2, removed: 6, changed: 2 } });
    expect(summary(body)).toEqual([
      'removed /data',
      'removed /data/sub',
      'removed /data/sub/x',
      'changed /etc/a.txt size,mtime',
      'changed /etc/b.txt mode',
      'added /etc/c.txt',
      'removed /etc/motd',
      'removed /opt/old/a',
      'removed /opt/old/b',
      'added /opt/old/c',
    ]);
    const b = body.entries.find((e) => e.path === '/etc/b.txt')!;
    expect([b.before?.mode, b.after?.mode]).toEqual([0o644, 0o600]);
    // The image root both stand on is not walked.
    expect(body.walked.skippedLayers).toBeGreaterThanOrEqual(1);
    // The other way round: added and removed swap.
    expect(summary((await get(`/snapshots/${two}/diff/${one}`)).body)).toContain('added /etc/motd');
  });

  it('shows a small text file as a unified diff, and says why not for binaries', async () => {
    const { body } = await get(`/snapshots/${one}/diff/${two}?path=${encodeURIComponent('/etc/a.txt')}`);
    expect(body.file?.unified).toContain('--- a/etc/a.txt');
    expect(body.file?.unified).toContain('+two');
    const gone = (await get(`/snapshots/${one}/diff/${two}?path=/etc/motd`)).body.file;
    expect(gone?.unified).toContain('-hello');
    expect((await get(`/snapshots/${one}/diff/${two}?path=/bin/busybox`)).body.file).toMatchObject({
      unified: null,
      reason: expect.stringMatching(/KiB|binary/),
    });
    expect((await get(`/snapshots/${one}/diff/${two}?limit=2`)).body).toMatchObject({ truncated: true, counts: { removed: 6 } });
  });

  it("compares a machine's files now with its last checkpoint, or a named one", async () => {
    await sh('df-ct', 'echo later > /root/later; sync');
    const since = await get('/machines/df-ct/diff');
    expect(since.status).toBe(200);
    expect(summary(since.body)).toEqual(['added /root/later']);
    expect(since.body.a).toMatchObject({ kind: 'snapshot', id: two });
    expect(since.body.b).toMatchObject({ kind: 'machine', label: 'df-ct (now)' });
    expect(summary((await get('/machines/df-ct/diff?against=df-one')).body)).toContain('added /root/later');
  });

  it('refuses unknown references (404) and snapshots of different drivers (400)', async () => {
    expect((await get(`/snapshots/no-such-label/diff/${two}`)).status).toBe(404);
    expect((await get(`/machines/no-such-machine/diff`)).status).toBe(404);
    expect((await get('/machines/df-ct/diff?against=nope')).status).toBe(404);
    await finished(await api.images.build({ kind: 'busybox' }), 240_000);
    await finished(await api.machines.create({ name: 'df-vm', image: 'busybox', memoryMib: 128, start: false }));
    const vm = await checkpoint('df-vm', 'df-vm-blank');
    const mixed = await get(`/snapshots/${vm}/diff/${two}`);
    expect(mixed.status).toBe(400);
    expect(mixed.body.error?.message).toMatch(/qemu.*nspawn/);
    // A disk with no filesystem on it: an error naming why, nothing left mounted.
    const blank = await get(`/snapshots/${vm}/diff/${vm}`);
    expect(blank.status).toBeGreaterThanOrEqual(400);
    expect(blank.body.error?.message).toMatch(/ext filesystem|partition/);
    expect(fs.readFileSync('/proc/self/mounts', 'utf8')).not.toContain(srv.dataDir);
  });

  it('reads ext4 from a qcow2 chain without booting anything: added, removed, changed, mode', async () => {
    const t = path.join(tmp, 'disk-tree');
    fs.mkdirSync(path.join(t, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(t, 'etc/a.txt'), 'one\n');
    fs.writeFileSync(path.join(t, 'etc/motd'), 'hello\n');
    fs.writeFileSync(path.join(t, 'etc/b.txt'), 'keep\n');
    const raw = path.join(tmp, 'disk.raw');
    const ok = async (argv: string[]) => {
      const r = await run(argv, { timeoutMs: 120_000 });
      if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${r.stderr}`);
    };
    await ok(['truncate', '-s', '64M', raw]);
    await ok(['/usr/sbin/mkfs.ext4', '-q', '-d', t, raw]);
    const base = path.join(tmp, 'base.qcow2');
    const top = path.join(tmp, 'top.qcow2');
    await ok(['qemu-img', 'convert', '-O', 'qcow2', raw, base]);
    // The newer layer: an overlay of the base, the filesystem changed through it (only the clusters written land in it).
    await ok(['qemu-img', 'create', '-q', '-f', 'qcow2', '-b', base, '-F', 'qcow2', top]);
    fs.writeFileSync(path.join(tmp, 'new.txt'), 'new\n');
    await editQcow2(top, ['rm /etc/motd', `write ${path.join(tmp, 'new.txt')} /etc/c.txt`, 'set_inode_field /etc/b.txt mode 0100600', 'mkdir /data'], tmp);
    const a = await openDisk(base, tmp);
    const b = await openDisk(top, tmp);
    try {
      const { entries } = await diffDisks(a, b);
      const s = entries.map((e) => `${e.change} ${e.path}${e.fields.length ? ` ${e.fields.join(',')}` : ''}`).sort();
      expect(s).toEqual(['added /data', 'added /etc/c.txt', 'changed /etc/b.txt mode', 'removed /etc/motd']);
    } finally {
      await a.close();
      await b.close();
    }
    expect(fs.readFileSync('/proc/self/mounts', 'utf8')).not.toContain(tmp);
  });
});
