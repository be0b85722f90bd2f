import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { checkStateFile } from '@/server/drivers/qemu/snapshot';
import { adminToken, client, COUNTER, jobDone, startServer, until, type RunningServer, tearDown } from './harness';
import { testTempDir } from './temp-dir';

/**
 * Live checkpoint, fork and restore on real QEMU (TCG) with the busybox image: a counter in
 * the guest carries on across them, the disk goes back with the memory, and a server killed
 * in the middle of a checkpoint leaves nothing that looks complete but is not.
 */
let srv: RunningServer;
let token: string;
let api: ApiClient;
const finished = async (job: Job, ms?: number) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const counter = async (m: string) => Number((await api.machines.exec(m, ['cat', '/tmp/counter'])).stdout.trim());
const sector = async (m: string) => (await api.machines.exec(m, ['sh', '-c', 'dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -c 6'])).stdout;
const writeSector = (m: string, text: string) =>
  api.machines.exec(m, ['sh', '-c', `printf '%s' "$1" | dd of=/dev/vda bs=512 seek=100 conv=notrunc 2>/dev/null; sync`, 'x', text]);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  srv = await startServer();
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  await finished(await api.images.build({ kind: 'busybox' }), 240_000);
  await finished(await api.machines.create({ name: 'src', image: 'busybox', memoryMib: 256 }));
  await api.machines.exec('src', ['sh', '-c', COUNTER]);
}, 300_000);

afterAll(() => tearDown(srv, api), 120_000);

describe('live snapshots (busybox, TCG)', () => {
  let c1: string;
  let before: number;

  it('checkpoints a running machine live: memory, devices and disk, with the pause time', async () => {
    await writeSector('src', 'before');
    await sleep(500);
    before = await counter('src');
    expect(before).toBeGreaterThan(0);
    const job = await finished(await api.snapshots.checkpoint('src', 'c1'));
    c1 = (job.result as { snapshot: string }).snapshot;
    const s = await api.snapshots.get(c1);
    expect(s).toMatchObject({ kind: 'live', state: 'complete', label: 'c1', machineName: 'src', memoryMib: 256, machines: [{ name: 'src' }] });
    expect(s.pauseMs).toBeGreaterThan(0);
    // The RAM copy is sparse: far less than the guest's 256 MiB for an idle busybox.
    expect(s.sizeBytes).toBeLessThan(200 * 2 ** 20);
    expect(checkStateFile(path.join(srv.dataDir, 'snapshots', c1, 'state'))).toBeGreaterThan(1000);
    expect(fs.readdirSync(path.join(srv.dataDir, 'snapshots')).filter((f) => f.startsWith('.'))).toEqual([]);
    await writeSector('src', 'after!');
  });

  it('forks 3 machines that carry on from the snapshot, each with its own name, MAC and disk', async () => {
    const job = await finished(await api.snapshots.fork(c1, { count: 3 }));
    const names = ['src-fork-1', 'src-fork-2', 'src-fork-3'];
    expect((job.result as { machines: string[] }).machines).toHaveLength(3);
    const macs = new Set<string>();
    for (const n of names) {
      const m = await api.machines.get(n);
      expect(m).toMatchObject({ state: 'running', snapshotId: c1, memoryMib: 256 });
      const v = await counter(n);
      // Continued from the saved value, not from zero (a boot would have no counter at all).
      expect(v).toBeGreaterThanOrEqual(before);
      await sleep(400);
      expect(await counter(n)).toBeGreaterThan(v);
      expect((await api.machines.exec(n, ['hostname'])).stdout.trim()).toBe(n);
      macs.add((await api.machines.exec(n, ['cat', '/sys/class/net/eth0/address'])).stdout.trim());
      expect(await sector(n)).toBe('before');
    }
    expect(macs.size).toBe(3);
    // Forks write to their own layers: the source and the other forks do not see it.
    await writeSector('src-fork-1', 'fork-1');
    expect(await sector('src-fork-2')).toBe('before');
    expect(await sector('src')).toBe('after!');
    // The source kept running all along.
    expect((await api.machines.get('src')).state).toBe('running');
  }, 120_000);

  it('restores the source to the snapshot: the counter goes back, the disk write after it is gone', async () => {
    await sleep(2500);
    const latest = await counter('src');
    await finished(await api.snapshots.restore(c1, {}));
    const restored = await counter('src');
    expect(restored).toBeGreaterThanOrEqual(before);
    expect(restored).toBeLessThan(latest);
    expect(await sector('src')).toBe('before');
    // "Checkpoint first" kept the state it left, as a child of c1.
    const tree = (await api.snapshots.list()).items;
    const saved = tree.find((s) => s.parentId === c1 && s.label === 'src before restore');
    expect(saved).toMatchObject({ kind: 'live', state: 'complete' });
    expect(
      tree
        .find((s) => s.id === c1)!
        .machines.map((m) => m.name)
        .sort(),
    ).toEqual(['src', 'src-fork-1', 'src-fork-2', 'src-fork-3']);
  }, 60_000);

  it('checkpoints a restored machine (RAM mapped privately from the snapshot, so streamed with the devices) and forks from that', async () => {
    await sleep(300);
    // Read before the checkpoint: the value after it can be many ticks on when the host is busy (it was 7 past at load 21).
    const saved = await counter('src');
    const job = await finished(await api.snapshots.checkpoint('src', 'streamed'));
    const id = (job.result as { snapshot: string }).snapshot;
    const dir = path.join(srv.dataDir, 'snapshots', id);
    expect(fs.existsSync(path.join(dir, 'ram'))).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}state$/m);
    const fork = await finished(await api.snapshots.fork(id, { count: 1, namePrefix: 'streamed' }));
    expect((fork.result as { machines: string[] }).machines).toHaveLength(1);
    const v = await counter('streamed-1');
    // Continued from the saved value, not from zero (a boot would have no counter at all).
    expect(v).toBeGreaterThanOrEqual(saved);
    await sleep(400);
    expect(await counter('streamed-1')).toBeGreaterThan(v);
    // A damaged state file is caught by its checksum before anything is stopped.
    fs.appendFileSync(path.join(dir, 'state'), 'x');
    await expect(api.snapshots.restore(id, {})).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/damaged: state: checksum mismatch/) });
    expect((await api.machines.get('src')).state).toBe('running');
    await finished(await api.machines.destroy('streamed-1'));
  }, 60_000);

  it('refuses to delete what others depend on, deletes leaves, and cleans up layers', async () => {
    await expect(api.snapshots.remove(c1)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/below it/) });
    await expect(api.snapshots.remove(c1, true)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/src/) });
    const leaf = (await api.snapshots.list()).items.find((s) => s.parentId === c1 && s.label === 'src before restore')!;
    await api.snapshots.remove(leaf.id);
    await expect(api.snapshots.get(leaf.id)).rejects.toMatchObject({ status: 404 });
    expect(fs.existsSync(path.join(srv.dataDir, 'snapshots', leaf.id))).toBe(false);
    // GC: unreferenced old files go; every layer in a machine's or snapshot's chain stays, however old.
    const layers = path.join(srv.dataDir, 'layers');
    const hourAgo = new Date(Date.now() - 3600_000);
    fs.writeFileSync(path.join(layers, 'orphan.qcow2'), 'x'.repeat(8192));
    fs.writeFileSync(path.join(layers, 'young.qcow2'), 'x');
    fs.mkdirSync(path.join(srv.dataDir, 'snapshots', 'snp_strayfiles0000'));
    for (const f of fs.readdirSync(layers)) if (f !== 'young.qcow2') fs.utimesSync(path.join(layers, f), hourAgo, hourAgo);
    fs.utimesSync(path.join(srv.dataDir, 'snapshots', 'snp_strayfiles0000'), hourAgo, hourAgo);
    const inUse = fs.readdirSync(layers).filter((f) => !['orphan.qcow2', 'young.qcow2'].includes(f));
    const gc = await api.snapshots.gc();
    expect(gc.removedFiles).toBeGreaterThanOrEqual(2);
    expect(fs.readdirSync(layers).sort()).toEqual([...inUse, 'young.qcow2'].sort());
    expect(fs.existsSync(path.join(srv.dataDir, 'snapshots', 'snp_strayfiles0000'))).toBe(false);
    expect(await sector('src-fork-2')).toBe('before');
    await expect(api.snapshots.restore('snp_doesnotexist00', {})).rejects.toMatchObject({ status: 404 });
    await expect(api.snapshots.fork(c1, { count: 99 })).rejects.toMatchObject({ status: 400 });
    // One node: a fork pinned to another is to a node that does not exist, refused before any machine (as create is).
    const before = (await api.machines.list()).items.length;
    await expect(api.snapshots.fork(c1, { count: 1, node: 'nosuch' })).rejects.toMatchObject({ status: 404, message: 'Node nosuch not found.' });
    expect((await api.machines.list()).items.length).toBe(before);
    // The CLI: the tree, and a fork by snapshot id.
    const env = { XDG_CONFIG_HOME: srv.dataDir, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const tree = await run([process.execPath, 'dist/cli.js', 'snapshots'], { env, timeoutMs: 30_000 });
    expect(tree.stdout).toMatch(new RegExp(`${c1}  c1  \\[live`));
    const cli = await run([process.execPath, 'dist/cli.js', 'fork', c1, '-n', '1', '--prefix', 'cli'], { env, timeoutMs: 60_000 });
    expect(cli).toMatchObject({ code: 0, stdout: 'Forked: cli-1\n' });
    for (const n of ['src-fork-1', 'src-fork-2', 'src-fork-3', 'cli-1']) await finished(await api.machines.destroy(n));
  }, 60_000);

  it('exports a snapshot to one archive and imports it as a new root that forks and carries on; bad archives are refused', async () => {
    const env = { XDG_CONFIG_HOME: srv.dataDir, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const work = testTempDir('hangar-archive-', path.join(srv.dataDir, '..'));
    const file = path.join(work, 'c1.tar');
    // By its label (one snapshot has it), as `hangar snapshot export clean` in the README.
    const out = await run([process.execPath, 'dist/cli.js', 'snapshot', 'export', 'c1', '-o', file], { env, timeoutMs: 120_000 });
    expect(out.code, out.stderr).toBe(0);
    // A file that cannot be written is named, with why, before the server packs anything; nothing is left of it.
    for (const [to, why] of [
      [path.join(work, 'no-such-dir', 'c1.tar'), 'no such directory'],
      [work, 'it is a directory'],
    ] as const) {
      const bad = await run([process.execPath, 'dist/cli.js', 'snapshot', 'export', 'c1', '-o', to], { env, timeoutMs: 60_000 });
      expect(bad).toMatchObject({ code: 1, stderr: `hangar: Cannot write ${to}: ${why}.\n` });
    }
    expect(fs.readdirSync(work)).toEqual(['c1.tar']);
    const members = (await run(['tar', '-tf', file])).stdout.split('\n').filter(Boolean).sort();
    expect(members).toEqual(expect.arrayContaining(['SHA256SUMS', 'disk.qcow2', 'manifest.json', 'ram', 'state']));
    const imp = await run([process.execPath, 'dist/cli.js', '--json', 'snapshot', 'import', file], { env, timeoutMs: 120_000 });
    expect(imp.code, imp.stderr).toBe(0);
    const imported = JSON.parse(imp.stdout) as { id: string; label: string; parentId: string | null; kind: string };
    expect(imported).toMatchObject({ label: 'c1 (imported)', parentId: null, kind: 'live' });
    await finished(await api.snapshots.fork(imported.id, { count: 1, namePrefix: 'imported' }));
    expect(await counter('imported-1')).toBeGreaterThanOrEqual(before);
    expect(await sector('imported-1')).toBe('before');
    await finished(await api.machines.destroy('imported-1'));

    // Refused with a clear 400, leaving nothing behind: not a tar, a stray member, a damaged file.
    const refuse = async (body: Buffer, why: RegExp) => {
      await expect(api.snapshots.importArchive(new Uint8Array(body))).rejects.toMatchObject({ status: 400, message: why });
    };
    await refuse(Buffer.from('not a tar at all'), /tar could not unpack/);
    const unpacked = path.join(work, 'x');
    fs.mkdirSync(unpacked);
    await run(['tar', '-C', unpacked, '-xf', file]);
    fs.writeFileSync(path.join(unpacked, 'evil'), 'x');
    await run(['tar', '-C', unpacked, '-cf', path.join(work, 'stray.tar'), '.']);
    await refuse(fs.readFileSync(path.join(work, 'stray.tar')), /unexpected member/);
    fs.rmSync(path.join(unpacked, 'evil'));
    fs.appendFileSync(path.join(unpacked, 'state'), 'x');
    await run(['tar', '-C', unpacked, '-cf', path.join(work, 'damaged.tar'), 'manifest.json', 'SHA256SUMS', 'state', 'disk.qcow2']);
    await refuse(fs.readFileSync(path.join(work, 'damaged.tar')), /state: checksum mismatch/);
    expect(fs.readdirSync(path.join(srv.dataDir, 'snapshots')).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(fs.readdirSync(path.join(srv.dataDir, 'tmp')).filter((f) => /^(upload|export)-/.test(f))).toEqual([]);
  }, 180_000);

  it('names a snapshot by its label in every verb (API and CLI); a shared label is refused with the candidates; a machine name wins in fork', async () => {
    const env = { XDG_CONFIG_HOME: srv.dataDir, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
    const cli = (...args: string[]) => run([process.execPath, 'dist/cli.js', ...args], { env, timeoutMs: 120_000 });
    const snap = async (m: string, label: string) => ((await finished(await api.snapshots.checkpoint(m, label))).result as { snapshot: string }).snapshot;
    // API: show, rename, fork, restore and export by label; a label with a slash and spaces travels encoded.
    const a = await snap('src', 'clean / label');
    expect((await api.snapshots.get('clean / label')).id).toBe(a);
    expect((await api.snapshots.relabel('clean / label', 'clean')).id).toBe(a);
    expect((await api.snapshots.get('clean')).id).toBe(a);
    const forked = await finished(await api.snapshots.fork('clean', { count: 2, namePrefix: 'bylabel' }));
    expect((forked.result as { snapshot: string }).snapshot).toBe(a);
    expect((await api.machines.get('bylabel-1')).snapshotId).toBe(a);
    expect((await api.audit.list({ action: 'snapshot.fork' })).items[0]).toMatchObject({ targetKind: 'snapshot', targetId: a });
    const restored = await finished(await api.snapshots.restore('clean', { machine: 'bylabel-1', checkpointFirst: false }));
    expect((restored.result as { snapshot: string }).snapshot).toBe(a);
    // src's snapshot on bylabel-1: the guest calls itself bylabel-1, not src (two guests of one name otherwise).
    expect((await api.machines.exec('bylabel-1', ['hostname'])).stdout.trim()).toBe('bylabel-1');
    const archive = await api.snapshots.exportArchive('clean');
    expect(archive.headers.get('content-type')).toBe('application/x-tar');
    await archive.body?.cancel();
    // A label shaped like an id would name another snapshot (ids are looked up first), or none: refused.
    await expect(api.snapshots.relabel('clean', 'snp_aaaaaaaaaaaaaaaa')).rejects.toMatchObject({
      status: 400,
      issues: [{ path: 'label', message: 'not shaped like a snapshot id (a snapshot is named by its id first)' }],
    });
    await expect(api.snapshots.get('no such label')).rejects.toMatchObject({
      status: 404,
      message: 'Snapshot "no such label" (no snapshot has this id or label) not found.',
    });

    // Two snapshots with one label: every verb refuses it (409) and lists both; the ids still work.
    const del = await snap('bylabel-2', 'to delete');
    const d1 = await snap('bylabel-2', 'twice');
    const d2 = await snap('bylabel-2', 'twice');
    for (const call of [
      () => api.snapshots.get('twice'),
      () => api.snapshots.fork('twice', { count: 1 }),
      () => api.snapshots.restore('twice', {}),
      () => api.snapshots.remove('twice'),
      () => api.snapshots.relabel('twice', 'x'),
      () => api.snapshots.exportArchive('twice'),
    ]) {
      await expect(call()).rejects.toMatchObject({
        status: 409,
        message: '2 snapshots are labelled "twice": name one by its id.',
        issues: [
          { path: d1, message: expect.stringMatching(/^label "twice", machine bylabel-2, created \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/) },
          { path: d2, message: expect.stringContaining('machine bylabel-2') },
        ],
      });
    }
    expect((await api.snapshots.get(d2)).label).toBe('twice');

    // The CLI: the README's `hangar fork clean -n N`, restore and show by label, the shared label with its candidates, rm by id and label.
    expect(await cli('fork', 'clean', '-n', '1', '--prefix', 'readme')).toMatchObject({ code: 0, stdout: 'Forked: readme-1\n' });
    expect((await api.machines.get('readme-1')).snapshotId).toBe(a);
    const show = await cli('snapshot', 'show', 'clean');
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^${a}  clean\n  live snapshot of src`));
    expect(show.stdout).toContain('readme-1');
    expect(await cli('restore', 'clean', '--machine', 'readme-1', '--no-checkpoint')).toMatchObject({ code: 0, stdout: 'Restored readme-1 to "clean".\n' });
    const shared = await cli('fork', 'twice');
    expect(shared.code).toBe(1);
    expect(shared.stderr).toContain('2 snapshots are labelled "twice": name one by its id.');
    expect(shared.stderr).toContain(`${d1}: label "twice", machine bylabel-2`);
    expect(shared.stderr).toContain(`${d2}: label "twice", machine bylabel-2`);
    expect(await cli('fork', 'nothing-by-this-name')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('No snapshot or machine "nothing-by-this-name"'),
    });
    await finished(await api.machines.destroy('bylabel-2'));
    expect(await cli('snapshot', 'rm', d2)).toMatchObject({ code: 0 });
    expect(await cli('snapshot', 'rm', 'twice')).toMatchObject({ code: 0, stdout: `Deleted snapshot ${d1} (twice).\n` });
    await api.snapshots.remove('to delete');
    await expect(api.snapshots.get(del)).rejects.toMatchObject({ status: 404 });

    // A text that is a machine's name and a snapshot's label: fork takes the machine (fork now) and says so; the id forks the snapshot.
    const clash = await snap('readme-1', 'bylabel-1');
    const now = await cli('fork', 'bylabel-1', '-n', '1', '--prefix', 'machine-won');
    expect(now).toMatchObject({ code: 0, stdout: 'Forked: machine-won-1\n' });
    expect(now.stderr).toContain(`note: "bylabel-1" is a machine and also a snapshot label: forking the machine now (hangar fork ${clash} forks the snapshot)`);
    const point = (await api.machines.get('machine-won-1')).snapshotId!;
    expect((await api.snapshots.get(point)).label).toBe('fork point of bylabel-1');
    await finished(await api.machines.destroy('machine-won-1'));
    expect(await cli('fork', clash, '-n', '1', '--prefix', 'snapshot-won')).toMatchObject({ code: 0, stdout: 'Forked: snapshot-won-1\n' });
    expect((await api.machines.get('snapshot-won-1')).snapshotId).toBe(clash);
    for (const n of ['bylabel-1', 'readme-1', 'snapshot-won-1']) await finished(await api.machines.destroy(n));
  }, 240_000);

  it('survives a kill -9 of the server during a checkpoint: nothing half-complete, the machine runs on', async () => {
    const job = await api.snapshots.checkpoint('src', 'killed');
    // Kill once the checkpoint has begun (its row exists): a server slowed by other work may not be there yet after a fixed delay.
    await until(async () => (await api.snapshots.list()).items.some((s) => s.label === 'killed'), 'the checkpoint to begin', 10_000, 2);
    await srv.stop('SIGKILL');
    srv = await startServer({ dataDir: srv.dataDir, ownDataDir: srv.owned });
    api = client(srv.url, token);
    const killed = (await api.snapshots.list()).items.find((s) => s.label.startsWith('killed'))!;
    expect(killed).toBeDefined();
    if (killed.state === 'complete') expect(checkStateFile(path.join(srv.dataDir, 'snapshots', killed.id, 'state'))).toBeGreaterThan(0);
    else {
      expect(killed.state).toBe('failed');
      // Listed as failed until collected; then its row and files go.
      expect((await api.snapshots.gc()).removedSnapshots).toBe(1);
      await expect(api.snapshots.get(killed.id)).rejects.toMatchObject({ status: 404 });
    }
    expect(fs.readdirSync(path.join(srv.dataDir, 'snapshots')).filter((f) => f.startsWith('.'))).toEqual([]);
    expect((await api.jobs.get(job.id)).state).not.toBe('running');
    // Never left paused, and writing to the disk layer QEMU really uses.
    expect((await api.machines.get('src')).state).toBe('running');
    const a = await counter('src');
    await sleep(400);
    expect(await counter('src')).toBeGreaterThan(a);
    await finished(await api.snapshots.checkpoint('src', 'after the crash'));
  }, 90_000);
});
