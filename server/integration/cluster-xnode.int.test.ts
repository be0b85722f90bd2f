import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import type { BuildResult } from '@/lib/contracts/steps';
import { run } from '@/server/drivers/exec';
import { busyboxTree, importBusyboxRootfs } from './busybox-tree';
import { jobDone, until } from './harness';
import { sharedCluster, type SharedCluster } from './shared-cluster';

/**
 * Snapshots and images across nodes (issue 21), on one two-node cluster shared by the file's
 * tests: a machine placed by load on the node that lacks its image (the image copied there,
 * checked), a QEMU busybox fork on B of a snapshot A holds (the image's kernel copied to B too), a
 * chain whose steps A cached built again on B (every step a hit, the last result copied to B as a
 * replica), a machine on B restored to a snapshot A holds, and an image copy cut halfway (A killed
 * during it) leaving nothing on B. B copies at most 16 MiB/s (HANGAR_REPLICA_RATE_MIBS), so that
 * the cut lands in the middle of a copy, and keeps no image copy it does not use
 * (HANGAR_IMAGE_COPY_BUDGET_GIB=0): the second test's copy evicts the first's. The two nodes are the
 * lane's, shared with the other cluster files (shared-cluster.ts).
 */
let nodes: SharedCluster | undefined;
let api: ApiClient;
let apiB: ApiClient;
let db: pg.Client;
let tmp = '';
let nodeB = '';

const finished = async (a: ApiClient, job: Job, ms = 300_000) => {
  const j = await jobDone(a, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}`);
  return j;
};
const logOf = async (a: ApiClient, id: string) => (await a.jobs.logs(id)).items.map((l) => l.line).join('\n');
const imageCopies = async (name: string) =>
  (
    await db.query<{ node_id: string; path: string; bytes: string }>(
      'select c.node_id, c.path, c.bytes from image_copies c join images i on i.id = c.image_id where i.name = $1',
      [name],
    )
  ).rows;
const snapshotCopies = async (snapshotId: string) =>
  (await db.query<{ node_id: string }>('select node_id from snapshot_copies where snapshot_id = $1', [snapshotId])).rows.map((r) => r.node_id);
/** A machine as a node lists it: one another node made may reach this node's list a moment after its job ended (the change is notified). */
const seen = (a: ApiClient, name: string) => until(() => a.machines.get(name).catch(() => null), `${name} listed`, 60_000, 200);
const sh = async (a: ApiClient, m: string, script: string) => (await a.machines.exec(m, ['/bin/sh', '-c', script])).stdout.trim();
/** Leftovers of copies in B's images dir (dot-dirs of transfers under way or cut). */
const partsOnB = () => fs.readdirSync(path.join(nodes!.b.dataDir, 'images')).filter((e) => e.startsWith('.'));
/** The command lines of the QEMU processes running now. */
const qemuArgv = () =>
  fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .flatMap((d) => {
      try {
        const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return /qemu-system/.test(argv[0] ?? '') ? [argv.join(' ')] : [];
      } catch {
        return [];
      }
    });
const CHAIN = 'busybox + file /etc/motd "made on node a" + exec -- sh -c "cat /etc/motd > /tmp/seen"';

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-xnode-'));
  nodes = await sharedCluster({ HANGAR_REPLICA_RATE_MIBS: '16', HANGAR_IMAGE_COPY_BUDGET_GIB: '0' });
  db = new pg.Client({ connectionString: nodes.dbUrl });
  await db.connect();
  ({ api, apiB } = nodes);
  nodeB = (await api.nodes.list()).items.find((n) => n.name === 'b')!.id;
  // Both images on A (a request to A builds or imports there).
  await importBusyboxRootfs(api, tmp, 'bb-x');
  await finished(api, await api.images.build({ kind: 'busybox' }), 240_000);
}, 400_000);

afterAll(async () => {
  await db?.end().catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
  await nodes?.release();
}, 300_000);

describe('snapshots and images across nodes', () => {
  it('a machine placed by load goes to the node that lacks its image: the image is copied there, checked, and the machine runs', async () => {
    // A carries 1 GiB of machines, B none: the next machine goes to B, the lighter one.
    await finished(
      api,
      await api.machines.create({ name: 'heavy', image: 'bb-x', driver: 'nspawn', memoryMib: 1024, node: 'a', command: ['/bin/sleep', '100000'] }),
    );
    expect((await api.machines.get('heavy')).node?.name).toBe('a');
    expect(await imageCopies('bb-x')).toEqual([]);
    const made = await finished(
      api,
      await api.machines.create({ name: 'light', image: 'bb-x', driver: 'nspawn', memoryMib: 128, command: ['/bin/sleep', '100000'] }),
    );
    // The copy ran in the create's job (its log), not while the request waited.
    const madeLog = await logOf(api, made.id);
    expect(madeLog).toMatch(/image "bb-x" is held by node a: copying it to node b/);
    expect(madeLog).toMatch(/image "bb-x" copied to node b/);
    const light = await seen(api, 'light');
    expect(light.node?.name).toBe('b');
    expect(light.state).toBe('running');
    expect(await sh(api, 'light', 'echo hi-from-$(/bin/busybox hostname)')).toBe('hi-from-light');
    const rows = await imageCopies('bb-x');
    expect(rows.map((r) => r.node_id)).toEqual([nodeB]);
    expect(rows[0].path).toBe(path.join(nodes!.b.dataDir, 'images', 'bb-x'));
    expect(Number(rows[0].bytes)).toBeGreaterThan(0);
    expect(fs.existsSync(path.join(rows[0].path, 'rootfs', 'bin', 'busybox'))).toBe(true);
    expect(partsOnB()).toEqual([]);
    for (const m of ['heavy', 'light']) await finished(api, await api.machines.destroy(m));
  }, 600_000);

  let steps: string[] = [];
  let snaps: string[] = [];

  it('a QEMU busybox fork on B of a snapshot A holds boots there: the image’s kernel is copied to B with the snapshot', async () => {
    const cold = (await finished(api, await api.steps.build({ chain: CHAIN, name: 'st-a' }), 600_000)).result as BuildResult;
    expect(cold).toMatchObject({ hits: 0, ran: 3 });
    expect((await api.machines.get('st-a')).node?.name).toBe('a');
    steps = cold.keys;
    const tree = (await api.steps.nodes()).items;
    snaps = steps.map((k) => tree.find((n) => n.key === k)!.snapshotId!);
    expect(await imageCopies('busybox')).toEqual([]);
    const done = await finished(api, await api.snapshots.fork(snaps[0], { names: ['qf-b'], node: 'b' }));
    const log = await logOf(api, done.id);
    expect(log).toMatch(/copy from node a: 100%/);
    expect(log).toMatch(/image "busybox" is held by node a: copying it to node b/);
    expect(log).toMatch(/image "busybox" copied to node b/);
    // B keeps no copy it does not use (its budget is 0 here): bb-x's, unused since the first test destroyed its machines, went.
    expect(log).toMatch(/image copy budget \(0\.0 MiB\): the least recently used copy \(image "bb-x", [\d.]+ MiB\) removed/);
    expect(await imageCopies('bb-x')).toEqual([]);
    expect(fs.existsSync(path.join(nodes!.b.dataDir, 'images', 'bb-x'))).toBe(false);
    const fork = await seen(api, 'qf-b');
    expect(fork.node?.name).toBe('b');
    expect(fork.state).toBe('running');
    expect(await sh(apiB, 'qf-b', 'echo booted-$(hostname)')).toBe('booted-qf-b');
    const copy = await imageCopies('busybox');
    expect(copy.map((r) => r.node_id)).toEqual([nodeB]);
    // B's QEMU boots B's copy of the kernel, not A's files (both data dirs are on this one host).
    const bKernel = path.join(nodes!.b.dataDir, 'images', 'busybox');
    expect(qemuArgv().some((a) => a.includes(bKernel))).toBe(true);
    await finished(api, await api.machines.destroy('qf-b'));
  }, 900_000);

  it('a chain cache hit across nodes: the chain built again on B hits every step A cached, runs none, and copies the last result', async () => {
    const warm = (await finished(apiB, await apiB.steps.build({ chain: CHAIN, name: 'st-b' }), 600_000)) as Job;
    expect(warm.result).toMatchObject({ machine: 'st-b', hits: 3, ran: 0, keys: steps });
    const m = await seen(api, 'st-b');
    expect(m.node?.name).toBe('b');
    // The chain's last state, memory included (/tmp is a tmpfs).
    expect(await sh(apiB, 'st-b', 'cat /tmp/seen')).toBe('made on node a');
    const forkJob = /forked the cached result \(job (\S+)\)/.exec(await logOf(apiB, warm.id))?.[1];
    expect(forkJob).toBeTruthy();
    const forkLog = await logOf(apiB, forkJob!);
    expect(forkLog).toMatch(/held by node a: copying it to node b/);
    expect(forkLog).toMatch(/copy from node a: 100%/);
    expect(await snapshotCopies(snaps[2])).toEqual([nodeB]);
    // The cache keys did not change: the tree still has the three nodes A made.
    expect((await api.steps.nodes()).items.map((n) => n.key).sort()).toEqual([...steps].sort());
  }, 900_000);

  it('a machine on B restored to a snapshot A holds: the snapshot is copied to B first, and the machine stays on B', async () => {
    expect(await snapshotCopies(snaps[1])).toEqual([]);
    // Asked of A: the restore goes to the machine's node.
    const done = await finished(api, await api.snapshots.restore(snaps[1], { machine: 'st-b', checkpointFirst: false }));
    const log = await logOf(apiB, done.id);
    expect(log).toMatch(/held by node a: copying it to node b/);
    expect(await snapshotCopies(snaps[1])).toEqual([nodeB]);
    const m = await api.machines.get('st-b');
    expect(m.node?.name).toBe('b');
    expect(m.state).toBe('running');
    // Step 2's state: the file written, the exec of step 3 not run yet.
    expect(await sh(apiB, 'st-b', 'cat /etc/motd')).toBe('made on node a');
    expect(await sh(apiB, 'st-b', 'cat /tmp/seen 2>/dev/null || echo not-seen')).toBe('not-seen');
    for (const n of ['st-a', 'st-b']) await finished(api, await api.machines.destroy(n));
  }, 600_000);

  it('an image transfer cut halfway (A killed during it) fails with the reason and leaves nothing on B', async () => {
    // 48 MiB that does not compress: 3 s or more at B's 16 MiB/s.
    const tree = path.join(tmp, 'big-tree');
    busyboxTree(tree);
    await run(['dd', 'if=/dev/urandom', `of=${path.join(tree, 'root', 'blob')}`, 'bs=1M', 'count=48', 'status=none']);
    const tar = path.join(tmp, 'big.tar');
    await run(['tar', '--numeric-owner', '-C', tree, '-cf', tar, '.']);
    await finished(api, await api.images.importRootfs(new Uint8Array(fs.readFileSync(tar)), { name: 'bb-big', file: 'big.tar' }), 120_000);
    // Answered at once (202): B asks A how the image boots; the copy runs in the create's job.
    const job = await apiB.machines.create({ name: 'cut-1', image: 'bb-big', driver: 'nspawn', memoryMib: 128, node: 'b', command: ['/bin/sleep', '100000'] });
    const archiveSize = () => {
      for (const p of partsOnB()) {
        const f = path.join(nodes!.b.dataDir, 'images', p, 'archive.tar');
        if (fs.existsSync(f)) return fs.statSync(f).size;
      }
      return 0;
    };
    await until(async () => (archiveSize() > 8 * 2 ** 20 ? true : null), 'the copy under way', 120_000, 50);
    await nodes!.stop('a', 'SIGKILL');
    const failed = await jobDone(apiB, job, 120_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/Copying image "bb-big" from node a failed: the transfer was cut after/);
    expect(await imageCopies('bb-big')).toEqual([]);
    expect(partsOnB()).toEqual([]);
    expect(fs.existsSync(path.join(nodes!.b.dataDir, 'images', 'bb-big'))).toBe(false);
    expect(await apiB.machines.get('cut-1')).toMatchObject({ state: 'failed', stateReason: expect.stringMatching(/Copying image "bb-big"/) });
    expect(fs.existsSync(path.join(nodes!.b.dataDir, 'machines', job.machineId!))).toBe(false);

    // A back (same data dir), for the clean-up, and the same create copies the whole image this time.
    await nodes!.start('a');
    await until(
      async () => (await apiB.nodes.list()).items.find((n) => n.name === 'a' && n.online && n.internalUrl === nodes!.a.url),
      'a online again',
      60_000,
      250,
    );
    api = nodes!.api;
    await finished(
      apiB,
      await apiB.machines.create({ name: 'cut-2', image: 'bb-big', driver: 'nspawn', memoryMib: 128, node: 'b', command: ['/bin/sleep', '100000'] }),
    );
    expect(await sh(apiB, 'cut-2', '/bin/busybox ls /root')).toBe('blob');
    expect((await imageCopies('bb-big')).map((r) => r.node_id)).toEqual([nodeB]);
    // Deleting the image (on A, its node) removes B's copy too.
    for (const m of ['cut-1', 'cut-2']) await finished(apiB, await apiB.machines.destroy(m));
    const img = (await api.images.list()).items.find((i) => i.name === 'bb-big')!;
    await api.images.remove(img.id);
    expect(await imageCopies('bb-big')).toEqual([]);
    expect(fs.existsSync(path.join(nodes!.b.dataDir, 'images', 'bb-big'))).toBe(false);
  }, 600_000);
});
