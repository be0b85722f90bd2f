import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { MoveResult } from '@/lib/contracts/moves';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { jobDone, serialConsole, until } from './harness';
import { jobsThrough, layersOf, qemusUnder } from './node-files';
import { slowLink } from './netns';
import { moveCluster, type SharedCluster } from './shared-cluster';

/**
 * Moves between nodes (issue 21 step 6), on the lane's two-node cluster (shared-cluster.ts): a
 * running busybox VM with an extra disk moves live from A to B (QEMU's migration; its writable layer by a block mirror
 * over NBD), its serial console typed into before and after; the same VM, stopped, moves back by
 * copying its files; refusals come before anything moves; a migration whose receiving qemu is
 * killed fails the job and leaves the VM running where it was, with nothing left on B. A running
 * nspawn container standing on a snapshot's layer moves by restart (frozen, copied, started on B);
 * one whose move fails is thawed and runs on. B runs in a network namespace of its own (netns.ts).
 * What stands on images (OCI images, podman, registries, disk images, ISOs): cluster-move-images.int.test.ts.
 */
let nodes: SharedCluster | undefined;
let api: ApiClient;
let apiB: ApiClient;
const consoles: Socket[] = [];

/** A shell command in the moving VM, through whichever node has it. */
const sh = async (script: string) => {
  const r = await api.machines.exec('mv', ['sh', '-c', script], 30);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};
const { logOf, done } = jobsThrough(() => api);

moveCluster({
  consoles,
  ready: (c) => ({ api, apiB } = nodes = c),
  first: async () => done(await api.machines.create({ name: 'mv', image: 'busybox', memoryMib: 128, node: 'a' }), 180_000),
});

describe('moves between nodes', () => {
  it('a running busybox VM moves live from A to B: its console goes on, the downtime is reported, nothing is left on A', async () => {
    const { a, b, token } = nodes!;
    const m = await api.machines.get('mv');
    expect(m.node?.name).toBe('a');
    expect(m.capabilities.move).toMatchObject({ available: true, live: { available: true } });
    const before = await serialConsole(a.url, token, m.id, 'move-before', consoles);
    await before.waitFor('/# ');
    before.type('echo before-$((40+2))-move\n');
    await before.waitFor('before-42-move');
    // An extra disk, attached and written, moves too: mirrored beside the root disk.
    await api.machines.disks.add('mv', { name: 'data', sizeGib: 1 });
    await until(async () => (await sh('cat /sys/block/vdb/serial 2>/dev/null; true')).includes('data'), 'the extra disk in the guest', 30_000);
    await sh('echo before-move-bytes | dd of=/dev/vdb conv=fsync 2>/dev/null');
    const pidA = qemusUnder(a.dataDir);
    expect(pidA.length).toBe(1);

    const closed = new Promise<{ reason: string }>((r) => before.s.once('closed', r));
    const job = await done(await api.machines.move('mv', { node: 'b' }), 300_000);
    const result = job.result as MoveResult;
    console.log(`live move: downtime ${result.downtimeMs} ms, ${result.totalS.toFixed(1)} s in all, ${result.bytes} bytes copied ahead`);
    expect(result).toMatchObject({ machine: m.id, from: 'a', to: 'b', live: true });
    expect(typeof result.downtimeMs).toBe('number');
    const log = await logOf(job.id);
    expect(log).toMatch(/the guest was stopped \d+ ms/);
    expect(log).toMatch(/sizes and SHA-256 checked/);
    // Both streams crossed the veth under TLS with the move's own key (move-tls.int shows what is refused without it).
    expect(log).toMatch(/writable layers of the root disk, disk "data" are mirrored .*NBD over TLS/);
    expect(log).toMatch(/MiB sent over TLS/);
    // The console on A closed (its machine left); one opened now reaches B and the guest answers.
    await closed;
    const moved = await api.machines.get('mv');
    expect(moved).toMatchObject({ state: 'running', node: { name: 'b' } });
    const after = await serialConsole(a.url, token, m.id, 'move-after', consoles);
    expect(after.reply.ok && after.reply.replay).toContain('before-42-move');
    after.type('echo after-$((50+5))-move\n');
    await after.waitFor('after-55-move');
    expect((await apiB.machines.exec('mv', ['sh', '-c', 'echo still $((6*7))'])).stdout).toContain('still 42');
    // The disk written on A reads the same on B, and takes writes there (read again from the files after the move back).
    expect(await sh('dd if=/dev/vdb bs=17 count=1 2>/dev/null')).toBe('before-move-bytes');
    await sh('echo after-move-bytes | dd of=/dev/vdb bs=4096 seek=1 conv=fsync 2>/dev/null');
    // A's qemu and files are gone; B runs it.
    await until(() => pidA.every((p) => !fs.existsSync(`/proc/${p}`)), "A's qemu gone", 30_000);
    expect(fs.existsSync(path.join(a.dataDir, 'machines', m.id))).toBe(false);
    expect(layersOf(a.dataDir, m.id)).toEqual([]);
    expect(qemusUnder(b.dataDir).length).toBe(1);
    expect(fs.existsSync(path.join(b.dataDir, 'machines', m.id))).toBe(true);
    // On B the move's key is gone and its qemu's migrations are plain again (its checkpoints go to files).
    expect(fs.existsSync(path.join(b.dataDir, 'machines', m.id, 'move-tls-in'))).toBe(false);
    const q = await Qmp.connect(path.join(b.dataDir, 'machines', m.id, 'qmp.sock'));
    try {
      expect((await q.execute<{ 'tls-creds'?: string }>('query-migrate-parameters'))['tls-creds'] ?? '').toBe('');
    } finally {
      q.close();
    }
  }, 600_000);

  it('refusals come before anything moves: the same node, an unknown one, a draining one, not enough memory there', async () => {
    await expect(api.machines.move('mv', { node: 'b' })).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/on node b already/) });
    await expect(api.machines.move('mv', { node: 'nope' })).rejects.toMatchObject({ status: 404 });
    await api.nodes.drain('a');
    try {
      await expect(api.machines.move('mv', { node: 'a' })).rejects.toMatchObject({ status: 409, message: expect.stringMatching(/draining/) });
    } finally {
      await api.nodes.undrain('a');
    }
    // Not enough memory on B: B's limit (its own setting, read by B) lowered under what a stopped machine asks for.
    const big = await done(await api.machines.create({ name: 'mv-big', image: 'busybox', memoryMib: 8192, start: false, node: 'a' }));
    const limit = (await apiB.settings.get()).memoryLimit;
    await apiB.settings.update({ memoryLimit: 0.1 });
    try {
      await expect(api.machines.move('mv-big', { node: 'b' })).rejects.toMatchObject({
        status: 409,
        message: expect.stringMatching(/node b cannot take it: Not enough host memory/),
      });
    } finally {
      await apiB.settings.update({ memoryLimit: limit });
    }
    expect((await api.machines.get('mv-big')).node?.name).toBe('a');
    await jobDone(api, await api.machines.destroy('mv-big'));
    // No refused move started a job: the one move job of these two machines is the first test's (the database is the
    // lane's cluster's, shared with the other cluster files: their jobs are there too).
    const mine = new Set([(await api.machines.get('mv')).id, big.machineId]);
    const moves = (await api.jobs.list({ limit: 100 })).items.filter((j) => j.kind === 'machine.move' && mine.has(j.machineId));
    expect(moves.length).toBe(1);
  }, 300_000);

  it('a stopped VM moves back to A by copying its files, and boots there', async () => {
    const { a, b } = nodes!;
    const id = (await api.machines.get('mv')).id;
    await done(await api.machines.act('mv', 'stop', { force: true }), 120_000);
    const job = await done(await api.machines.move('mv', { node: 'a' }), 300_000);
    expect(job.result).toMatchObject({ live: false, downtimeMs: null, from: 'b', to: 'a' });
    expect(await api.machines.get('mv')).toMatchObject({ state: 'stopped', node: { name: 'a' } });
    expect(fs.existsSync(path.join(b.dataDir, 'machines', id))).toBe(false);
    expect(layersOf(b.dataDir, id)).toEqual([]);
    await done(await api.machines.act('mv', 'start'), 180_000);
    const ran = await until(
      async () => (await api.machines.exec('mv', ['sh', '-c', 'echo back on $((1+1))']).catch(() => null))?.stdout,
      'exec on A after the move back',
      120_000,
      1000,
    );
    expect(ran).toContain('back on 2');
    expect(qemusUnder(a.dataDir).length).toBe(1);
    // Freshly booted on A, the extra disk's bytes come from its files: what was written on A before and on B after the live move.
    expect(await api.machines.disks.list('mv')).toMatchObject({ items: [{ name: 'data', attached: true }] });
    expect(await sh('dd if=/dev/vdb bs=17 count=1 2>/dev/null')).toBe('before-move-bytes');
    expect(await sh('dd if=/dev/vdb bs=4096 skip=1 count=1 2>/dev/null | head -c 16')).toBe('after-move-bytes');
  }, 600_000);

  it('a migration whose receiving qemu is killed fails with the reason; the VM keeps running on A and B keeps nothing', async () => {
    const { a, b, token } = nodes!;
    const id = (await api.machines.get('mv')).id;
    const pidA = qemusUnder(a.dataDir);
    const before = new Set(qemusUnder(b.dataDir));
    // The streams to B slowed, so the kill lands before the migration is through (on a fast host it once ended first).
    const undoSlow = await slowLink(nodes!.net, '100mbit');
    const failed = await (async () => {
      const job = await api.machines.move('mv', { node: 'b' });
      // B's qemu waiting for the stream: killed as soon as it shows.
      const victim = await until(() => qemusUnder(b.dataDir).find((p) => !before.has(p)), "B's receiving qemu", 120_000, 20);
      process.kill(victim, 'SIGKILL');
      return jobDone(api, job, 300_000);
    })().finally(undoSlow);
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatch(/Moving mv to node b failed: .*keeps running on node a/);
    expect(await api.machines.get('mv')).toMatchObject({ state: 'running', node: { name: 'a' } });
    expect(qemusUnder(a.dataDir)).toEqual(pidA);
    const c = await serialConsole(a.url, token, id, 'move-failed', consoles);
    c.type('echo alive-$((7*6))-here\n');
    await c.waitFor('alive-42-here');
    await until(() => !fs.existsSync(path.join(b.dataDir, 'machines', id)), "B's files removed", 30_000);
    expect(layersOf(b.dataDir, id)).toEqual([]);
    expect(qemusUnder(b.dataDir)).toEqual([]);
    expect(fs.readdirSync(path.join(b.dataDir, 'moves')).filter((f) => f.endsWith('.part'))).toEqual([]);
  }, 600_000);

  it('a running nspawn container on the NAT network moves by restart: frozen on A, its layers copied, started on B with its files and a lease', async () => {
    const { a, b } = nodes!;
    const ex = async (cmd: string) => (await api.machines.exec('ct-mv', ['/bin/sh', '-c', cmd])).stdout.trim();
    // ct-mv is a fork of a snapshot: it stands on the snapshot's layer (a file in it), its own upper dir above.
    await done(
      await api.machines.create({
        name: 'ct-src',
        image: 'bb-mv',
        driver: 'nspawn',
        memoryMib: 128,
        node: 'a',
        network: 'nat',
        command: ['/bin/sh', '-c', 'echo started-$((40+2)); exec /bin/sleep 100000'],
      }),
    );
    await api.machines.exec('ct-src', ['/bin/sh', '-c', 'echo in-the-snapshot > /root/below']);
    const snap = ((await done(await api.snapshots.checkpoint('ct-src', 'ct-src-point'))).result as { snapshot: string }).snapshot;
    await done(await api.snapshots.fork(snap, { names: ['ct-mv'] }));
    await jobDone(api, await api.machines.destroy('ct-src'));
    const m = await api.machines.get('ct-mv');
    expect(m).toMatchObject({ state: 'running', node: { name: 'a' } });
    expect(m.capabilities.move).toMatchObject({ available: true, live: { available: true }, running: 'restart' });
    await ex('echo in-its-upper > /root/above');
    const job = await done(await api.machines.move('ct-mv', { node: 'b' }), 300_000);
    const result = job.result as MoveResult;
    console.log(`container move: stopped ${result.downtimeMs} ms, ${result.totalS.toFixed(1)} s in all, ${result.bytes} bytes`);
    expect(result).toMatchObject({ machine: m.id, from: 'a', to: 'b', live: false, downtimeMs: expect.any(Number) });
    expect(await logOf(job.id)).toMatch(/frozen here, started there/);
    const moved = await api.machines.get('ct-mv');
    expect(moved).toMatchObject({ state: 'running', node: { name: 'b' } });
    // Its NAT subnet: leased on B (B's own NAT network, in B's namespace), A's lease given back.
    expect(moved.address).toMatch(/^10\.213\./);
    const leasesOf = (dataDir: string) => {
      const dir = path.join(dataDir, 'net', 'leases');
      return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => fs.readFileSync(path.join(dir, f), 'utf8') === m.id) : [];
    };
    expect(leasesOf(b.dataDir)).toHaveLength(1);
    expect(leasesOf(a.dataDir)).toEqual([]);
    // Through A's API (forwarded to B): both files, and its command started again there (the console log came along).
    expect(await ex('cat /root/below /root/above')).toBe('in-the-snapshot\nin-its-upper');
    expect((await apiB.machines.exec('ct-mv', ['/bin/cat', '/root/above'])).stdout.trim()).toBe('in-its-upper');
    const log = await until(
      async () => {
        const text = fs.readFileSync(path.join(b.dataDir, 'machines', m.id, 'console.log'), 'utf8');
        return text.split('started-42').length >= 3 ? text : null;
      },
      'the command started again on B',
      30_000,
    );
    expect(log).toContain('started-42');
    // A keeps the snapshot's layer (its snapshot stands on it) and nothing else of the machine.
    expect(fs.existsSync(path.join(a.dataDir, 'machines', m.id))).toBe(false);
    expect(layersOf(b.dataDir, m.id).filter((f) => f.includes('-lower-0-'))).toHaveLength(1);
  }, 600_000);

  it("a container's move that fails on the other node thaws it: it runs on where it was, and the other node keeps nothing", async () => {
    const { a } = nodes!;
    const id = (await api.machines.get('ct-mv')).id;
    // A's moves dir made a file: A takes nothing (after B has frozen and packed the container).
    const moves = path.join(a.dataDir, 'moves');
    fs.rmSync(moves, { recursive: true, force: true });
    fs.writeFileSync(moves, 'in the way');
    try {
      const failed = await jobDone(api, await api.machines.move('ct-mv', { node: 'a' }), 300_000);
      expect(failed.state).toBe('failed');
      expect(failed.error).toMatch(/Moving ct-mv to node a failed: .*keeps running on node b/);
    } finally {
      fs.rmSync(moves, { force: true });
    }
    expect(await api.machines.get('ct-mv')).toMatchObject({ state: 'running', node: { name: 'b' } });
    // Not frozen: a command runs in it at once.
    expect((await api.machines.exec('ct-mv', ['/bin/cat', '/root/above'])).stdout.trim()).toBe('in-its-upper');
    expect(fs.existsSync(path.join(a.dataDir, 'machines', id))).toBe(false);
  }, 300_000);
});
