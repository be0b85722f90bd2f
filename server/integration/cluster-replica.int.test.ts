import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { importBusyboxRootfs } from './busybox-tree';
import { jobDone, until } from './harness';
import { sharedCluster, type SharedCluster } from './shared-cluster';

/**
 * Snapshots across nodes (issue 21): a fork on node B of a snapshot node A holds copies it A -> B
 * over the node-signed internal route (the archive format, its checksums verified on B), keeps
 * the copy as a replica recorded in `snapshot_copies`, uses it again for the next fork on B, and
 * a delete of the snapshot removes the files on both nodes. A transfer cut halfway (A killed
 * during it) fails the fork with the reason and leaves no replica; once A is back, the fork works.
 * nspawn containers of a busybox root filesystem: the cheapest machines with snapshots. B takes at
 * most 16 MiB/s for a copy (HANGAR_REPLICA_RATE_MIBS), so that the cut lands in the middle of one,
 * and keeps 51 MiB of replicas (HANGAR_REPLICA_BUDGET_GIB), so that a test sees one evicted. The
 * two nodes are the lane's, shared with the other cluster files (shared-cluster.ts).
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
const copies = async (snapshotId: string) =>
  (
    await db.query<{ node_id: string; bytes: string; created_at: string; last_used_at: string; path: string }>(
      'select node_id, bytes, created_at, last_used_at, path from snapshot_copies where snapshot_id = $1',
      [snapshotId],
    )
  ).rows;
const cat = async (a: ApiClient, m: string, f: string) => (await a.machines.exec(m, ['/bin/sh', '-c', `cat ${f} 2>/dev/null || echo none`])).stdout.trim();
/** A container on A (pinned: placement by load could choose B) from the busybox root filesystem, `file` written in it, checkpointed: the snapshot's id. */
async function snapshotOnA(name: string, setup: string): Promise<string> {
  await finished(api, await api.machines.create({ name, image: 'bb-rep', driver: 'nspawn', memoryMib: 128, node: 'a', command: ['/bin/sleep', '100000'] }));
  expect((await api.machines.get(name)).node?.name).toBe('a');
  await api.machines.exec(name, ['/bin/sh', '-c', setup]);
  const done = await finished(api, await api.snapshots.checkpoint(name, `${name}-point`));
  return (done.result as { snapshot: string }).snapshot;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-replica-'));
  nodes = await sharedCluster({ HANGAR_REPLICA_RATE_MIBS: '16', HANGAR_REPLICA_BUDGET_GIB: '0.05' });
  db = new pg.Client({ connectionString: nodes.dbUrl });
  await db.connect();
  ({ api, apiB } = nodes);
  nodeB = (await api.nodes.list()).items.find((n) => n.name === 'b')!.id;
  await importBusyboxRootfs(api, tmp, 'bb-rep');
}, 300_000);

afterAll(async () => {
  await db?.end().catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
  await nodes?.release();
}, 300_000);

describe('snapshots across nodes: replicas', () => {
  let snapId = '';
  let snapPath = '';
  let replicaDir = '';
  /** The snapshot whose first copy is cut. */
  let big = '';
  let small2Id = '';

  it('a fork on B of a snapshot A holds copies it to B (progress in the job) and runs there', async () => {
    snapId = await snapshotOnA('src', 'echo made-on-a > /root/kept; sync');
    snapPath = (await db.query<{ path: string }>('select path from snapshots where id = $1', [snapId])).rows[0].path;
    expect(snapPath.startsWith(nodes!.a.dataDir)).toBe(true);
    const job = await api.snapshots.fork(snapId, { names: ['on-b-1'], node: 'b' });
    const done = await finished(api, job);
    const forked = await api.machines.get('on-b-1');
    expect(forked.node?.name).toBe('b');
    expect(forked.state).toBe('running');
    expect(await cat(api, 'on-b-1', '/root/kept')).toBe('made-on-a');
    expect((await apiB.machines.exec('on-b-1', ['/bin/busybox', 'hostname'])).stdout.trim()).toBe('on-b-1');
    const log = await logOf(api, done.id);
    expect(log).toMatch(/held by node a: copying it to node b/);
    expect(log).toMatch(/copy from node a: 100%/);
    expect(log).toMatch(/replica of "src-point" kept on node b/);
    const rows = await copies(snapId);
    expect(rows.map((r) => r.node_id)).toEqual([nodeB]);
    replicaDir = rows[0].path;
    expect(replicaDir).toBe(path.join(nodes!.b.dataDir, 'replicas', snapId));
    expect(fs.existsSync(replicaDir)).toBe(true);
    expect(Number(rows[0].bytes)).toBeGreaterThan(0);
    // The snapshot's view, from either node, says where its copies are.
    for (const c of [api, apiB])
      expect((await c.snapshots.get(snapId)).copies).toEqual([{ node: 'b', bytes: Number(rows[0].bytes), lastUsedAt: expect.any(Number) }]);
    // Nothing half made stays beside it.
    expect(fs.readdirSync(path.join(nodes!.b.dataDir, 'replicas'))).toEqual([snapId]);
  }, 600_000);

  it('a second fork on B uses the replica: no second transfer', async () => {
    const before = (await copies(snapId))[0];
    const done = await finished(api, await api.snapshots.fork(snapId, { names: ['on-b-2'], node: 'b' }));
    const log = await logOf(api, done.id);
    expect(log).toMatch(/replica of "src-point" already on node b: no transfer/);
    expect(log).not.toMatch(/copying it to node b/);
    const after = await copies(snapId);
    expect(after).toHaveLength(1);
    expect(after[0].created_at).toBe(before.created_at);
    expect(Number(after[0].last_used_at)).toBeGreaterThanOrEqual(Number(before.last_used_at));
    expect((await api.machines.get('on-b-2')).node?.name).toBe('b');
    expect(await cat(api, 'on-b-2', '/root/kept')).toBe('made-on-a');
  }, 300_000);

  it('a pin to an unknown node is 404; a fork without a pin stays on the snapshot’s node', async () => {
    await expect(api.snapshots.fork(snapId, { names: ['nowhere'], node: 'nope' })).rejects.toMatchObject({ status: 404 });
    const done = await finished(api, await api.snapshots.fork(snapId, { names: ['on-a-1'] }));
    expect((await api.machines.get('on-a-1')).node?.name).toBe('a');
    expect(await logOf(api, done.id)).not.toMatch(/replica/);
  }, 300_000);

  it('deleting the snapshot removes its files on A and its replica on B', async () => {
    // Refused while machines stand on it, on either node.
    await expect(api.snapshots.remove(snapId)).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/on-b-1/) });
    for (const m of ['on-b-1', 'on-b-2', 'on-a-1', 'src']) await finished(api, await api.machines.destroy(m));
    await api.snapshots.remove(snapId);
    expect(fs.existsSync(snapPath)).toBe(false);
    expect(fs.existsSync(replicaDir)).toBe(false);
    expect(await copies(snapId)).toEqual([]);
  }, 300_000);

  it('a transfer cut halfway (A killed during it) fails the fork with the reason and leaves no replica; with A back, the fork works', async () => {
    // 64 MiB that does not compress or sparsify: 4 s or more at B's 16 MiB/s.
    big = await snapshotOnA('big', '/bin/busybox dd if=/dev/urandom of=/root/blob bs=1M count=64 2>/dev/null; echo big > /root/kept; sync');
    const job = await api.snapshots.fork(big, { names: ['cut-1'], node: 'b' });
    await until(async () => /copy from node a: [1-9]\d%/.test(await logOf(apiB, job.id)), 'the copy under way', 120_000, 50);
    await nodes!.stop('a', 'SIGKILL');
    const failed = await jobDone(apiB, job, 120_000);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/Copying snapshot "big-point" from node a failed: the transfer was cut after/);
    expect(await copies(big)).toEqual([]);
    expect(fs.readdirSync(path.join(nodes!.b.dataDir, 'replicas'))).toEqual([]);
    await expect(apiB.machines.get('cut-1')).rejects.toMatchObject({ status: 404 });

    // A back (same data dir): the same fork copies the whole snapshot this time.
    await nodes!.start('a');
    await until(
      async () => (await apiB.nodes.list()).items.find((n) => n.name === 'a' && n.online && n.internalUrl === nodes!.a.url),
      'a online again',
      60_000,
      250,
    );
    api = nodes!.api;
    const again = await finished(apiB, await apiB.snapshots.fork(big, { names: ['cut-2'], node: 'b' }));
    expect(await logOf(apiB, again.id)).toMatch(/copy from node a: 100%/);
    expect(await cat(apiB, 'cut-2', '/root/kept')).toBe('big');
    expect((await copies(big)).map((r) => r.node_id)).toEqual([nodeB]);
  }, 600_000);

  it('past the budget, a new replica evicts the least recently used one nothing stands on (not one a fork runs on)', async () => {
    const small1 = await snapshotOnA('small-1', 'echo one > /root/kept; sync');
    await finished(apiB, await apiB.snapshots.fork(small1, { names: ['s1-fork'], node: 'b' }));
    // Nothing stands on small-1's copy now; big's holds cut-2.
    await finished(apiB, await apiB.machines.destroy('s1-fork'));
    const oneDir = (await copies(small1))[0].path;
    expect(fs.existsSync(oneDir)).toBe(true);
    const small2 = await snapshotOnA('small-2', 'echo two > /root/kept; sync');
    const done = await finished(apiB, await apiB.snapshots.fork(small2, { names: ['s2-fork'], node: 'b' }));
    expect(await logOf(apiB, done.id)).toMatch(new RegExp(`the least recently used copy \\(snapshot ${small1}, `));
    expect(await copies(small1)).toEqual([]);
    expect(fs.existsSync(oneDir)).toBe(false);
    expect((await copies(big)).map((r) => r.node_id)).toEqual([nodeB]);
    expect((await copies(small2)).map((r) => r.node_id)).toEqual([nodeB]);
    expect(await cat(apiB, 's2-fork', '/root/kept')).toBe('two');
    expect(fs.readdirSync(path.join(nodes!.b.dataDir, 'replicas')).sort()).toEqual([big, small2].sort());
    small2Id = small2;
  }, 600_000);

  it('a node offline at the delete removes its copies when it is back', async () => {
    for (const m of ['cut-2', 's2-fork', 'big', 'small-1', 'small-2']) await finished(api, await api.machines.destroy(m));
    const dirs = [big, small2Id].map((id) => path.join(nodes!.b.dataDir, 'replicas', id));
    await nodes!.stop('b');
    for (const id of [big, small2Id]) await api.snapshots.remove(id);
    // B was away: its files are still there, and so are the rows that say so.
    for (const d of dirs) expect(fs.existsSync(d)).toBe(true);
    expect((await copies(big)).length + (await copies(small2Id)).length).toBe(2);
    await nodes!.start('b');
    await until(async () => ((await copies(big)).length + (await copies(small2Id)).length === 0 ? true : null), "B's sweep at start", 60_000, 250);
    for (const d of dirs) expect(fs.existsSync(d)).toBe(false);
  }, 300_000);
});
