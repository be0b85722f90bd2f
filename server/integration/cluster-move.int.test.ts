import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import type { MoveResult } from '@/lib/contracts/moves';
import { run } from '@/server/drivers/exec';
import { ociPaths, storedImages } from '@/server/drivers/oci/store';
import { Qmp } from '@/server/drivers/qemu/qmp';
import { importBusyboxRootfs } from './busybox-tree';
import { RfbClient } from './rfb-client';
import { buildTestDisk, buildTestIso, TEST_DISK_MARK, TEST_ISO_MARK } from './test-iso';
import { client, jobDone, serialConsole, until } from './harness';
import { AUTH, busyboxRoot, push, relayRegistry, writeLayout } from './oci-registry';
import { sharedRegistries } from './oci-world';
import { adminSql } from './postgres';
import { startTwoNodes, type TwoNodes } from './two-nodes';

/**
 * Moves between nodes (issue 21 step 6), on one two-node cluster shared by the file's tests: a
 * running busybox VM with an extra disk moves live from A to B (QEMU's migration; its writable layer by a block mirror
 * over NBD), its serial console typed into before and after; the same VM, stopped, moves back by
 * copying its files; refusals come before anything moves; a migration whose receiving qemu is
 * killed fails the job and leaves the VM running where it was, with nothing left on B. A running
 * nspawn container standing on a snapshot's layer moves by restart (frozen, copied, started on B);
 * one whose move fails is thawed and runs on; an ISO install is refused while its CD holds the ISO
 * and moves live once it is ejected. B runs in a network namespace of its own (netns.ts).
 */
const DB = 'hangar_cluster_move';
let nodes: TwoNodes | undefined;
let dbUrl = '';
let api: ApiClient;
let apiB: ApiClient;
const consoles: Socket[] = [];

const admin = (sql: string) => adminSql(inject('postgresUrl'), sql);
/** A shell command in the moving VM, through whichever node has it. */
const sh = async (script: string) => {
  const r = await api.machines.exec('mv', ['sh', '-c', script], 30);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
};
const logOf = async (id: string) => (await api.jobs.logs(id)).items.map((l) => l.line).join('\n');
const done = async (job: Job, ms = 300_000) => {
  const j = await jobDone(api, job, ms);
  if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.error}\n${await logOf(j.id)}`);
  return j;
};
/** The command lines (NULs as spaces) of processes that name `text`. */
const processesNaming = (text: string): string[] =>
  fs.readdirSync('/proc').flatMap((p) => {
    try {
      const cmd = /^\d+$/.test(p) ? fs.readFileSync(`/proc/${p}/cmdline`, 'latin1').replaceAll('\0', ' ') : '';
      return cmd.includes(text) ? [cmd] : [];
    } catch {
      return [];
    }
  });
/** qemu processes whose command line names `dir` (a node's data dir). */
const qemusUnder = (dir: string): number[] =>
  fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmd = fs.readFileSync(`/proc/${p}/cmdline`, 'latin1');
        return cmd.startsWith('qemu-system') && cmd.includes(dir + '/');
      } catch {
        return false;
      }
    })
    .map(Number);
/** Files of the machine's own in a node's layers dir (its writable layer, copies of the layers below it). */
const layersOf = (dataDir: string, id: string) =>
  fs.existsSync(path.join(dataDir, 'layers')) ? fs.readdirSync(path.join(dataDir, 'layers')).filter((f) => f.startsWith(id)) : [];

beforeAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${DB}`);
  await admin(`CREATE DATABASE ${DB}`);
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${DB}`;
  dbUrl = url.toString();
  nodes = await startTwoNodes(dbUrl);
  api = nodes.api;
  apiB = client(nodes.b.url, nodes.token);
  await done(await api.images.build({ kind: 'busybox' }), 300_000);
  await done(await api.machines.create({ name: 'mv', image: 'busybox', memoryMib: 128, node: 'a' }), 180_000);
  const tmp = fs.mkdtempSync('/tmp/hangar-it-move-');
  try {
    await importBusyboxRootfs(api, tmp, 'bb-mv');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}, 600_000);

afterAll(async () => {
  consoles.forEach((s) => s.close());
  for (const m of (await api?.machines.list().catch(() => ({ items: [] })))?.items ?? [])
    await jobDone(api, await api.machines.destroy(m.id)).catch(() => undefined);
  await nodes?.stop();
  await admin(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
}, 300_000);

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
    await done(await api.machines.create({ name: 'mv-big', image: 'busybox', memoryMib: 8192, start: false, node: 'a' }));
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
    // The move's job never started: no job names the machine with kind machine.move but the first one.
    const moves = (await api.jobs.list({ limit: 100 })).items.filter((j) => j.kind === 'machine.move');
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
    const job = await api.machines.move('mv', { node: 'b' });
    // B's qemu waiting for the stream: killed as soon as it shows.
    const victim = await until(() => qemusUnder(b.dataDir)[0], "B's receiving qemu", 120_000, 20);
    process.kill(victim, 'SIGKILL');
    const failed = await jobDone(api, job, 300_000);
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

  it("OCI images between nodes: a move copies the layers to B's store (checked by digest), the image's delete drops them, a create on B copies", async () => {
    const { a, b } = nodes!;
    const tmp = fs.mkdtempSync('/tmp/hangar-it-move-oci-');
    let imageId = '';
    try {
      // An OCI image imported on A (an archive, no registry): only A's store has it.
      const policy = path.join(tmp, 'policy.json');
      fs.writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
      const app = path.join(tmp, 'l-app');
      fs.mkdirSync(path.join(app, 'etc'), { recursive: true });
      fs.writeFileSync(path.join(app, 'etc/motd'), 'from the image\n');
      writeLayout(path.join(tmp, 'layout'), [{ tag: 'app', layers: [busyboxRoot(path.join(tmp, 'l-base')), app], config: { Env: ['PATH=/bin'] } }]);
      const archive = path.join(tmp, 'app.tar');
      const r = await run(['skopeo', '--policy', policy, 'copy', '--quiet', `oci:${path.join(tmp, 'layout')}:app`, `oci-archive:${archive}`], {
        timeoutMs: 60_000,
      });
      expect(r.code, r.stderr).toBe(0);
      const pulled = (await done(await api.images.importArchive(fs.readFileSync(archive), 'app.tar'))).result as { image: string; digest: string };
      imageId = (await api.images.list()).items.find((i) => i.name === pulled.image)!.id;
      const inStore = (dataDir: string) => storedImages(ociPaths(dataDir)).some((i) => i.digest === pulled.digest);
      expect([inStore(a.dataDir), inStore(b.dataDir)]).toEqual([true, false]);
      await done(
        await api.machines.create({
          name: 'oci-mv',
          image: pulled.image,
          driver: 'nspawn',
          memoryMib: 128,
          node: 'a',
          command: ['/bin/sh', '-c', 'echo oci-started; exec /bin/sleep 100000'],
        }),
      );
      const m = await api.machines.get('oci-mv');
      expect(m.capabilities.move).toMatchObject({ available: true, running: 'restart' });
      await api.machines.exec('oci-mv', ['/bin/sh', '-c', 'echo in-its-upper > /root-note']);
      const job = await done(await api.machines.move('oci-mv', { node: 'b' }), 300_000);
      const moved = job.result as MoveResult;
      console.log(`OCI container move (image copied too): stopped ${moved.downtimeMs} ms, ${moved.totalS.toFixed(1)} s in all, ${moved.bytes} bytes`);
      // The image went to B before the container was frozen (not in its stopped window).
      expect(await logOf(job.id)).toMatch(new RegExp(`image ${pulled.image} is on node b[\\s\\S]*frozen here, started there`));
      expect(await api.machines.get('oci-mv')).toMatchObject({ state: 'running', node: { name: 'b' } });
      expect(inStore(b.dataDir)).toBe(true);
      // Its upper dir came along; the image's files are read from B's store.
      const cat = await api.machines.exec('oci-mv', ['/bin/cat', '/root-note', '/etc/motd']);
      expect(cat.stdout).toBe('in-its-upper\nfrom the image\n');
      // B's nspawn stacks B's store's layers (both nodes being on one host, A's would work too, and must not be used).
      const nspawn = processesNaming(m.id).filter((c) => c.startsWith('systemd-nspawn'));
      expect(nspawn).toHaveLength(1);
      expect(nspawn[0]).toContain(path.join(b.dataDir, 'oci', 'storage') + '/');
      expect(nspawn[0]).not.toContain(path.join(a.dataDir, 'oci') + '/');
      await jobDone(api, await api.machines.destroy('oci-mv'));
      // The image deleted on A: B's copy goes from its store too (A asks B to sweep).
      await api.images.remove(imageId);
      imageId = '';
      await until(async () => !inStore(b.dataDir) || null, "B's copy of the image removed", 30_000);
      expect(inStore(a.dataDir)).toBe(false);
      // Imported on A again, then a machine pinned to B: its create job copies the image there, with the same checks.
      const again = (await done(await api.images.importArchive(fs.readFileSync(archive), 'app.tar'))).result as { image: string };
      imageId = (await api.images.list()).items.find((i) => i.name === again.image)!.id;
      const made = await done(
        await api.machines.create({ name: 'oci-on-b', image: again.image, driver: 'nspawn', memoryMib: 128, node: 'b', command: ['/bin/sleep', '100000'] }),
      );
      expect(await logOf(made.id)).toMatch(/is held by node a: copying it to node b/);
      expect(await api.machines.get('oci-on-b')).toMatchObject({ state: 'running', node: { name: 'b' } });
      expect((await api.machines.exec('oci-on-b', ['/bin/cat', '/etc/motd'])).stdout).toBe('from the image\n');
      expect(inStore(b.dataDir)).toBe(true);
      await jobDone(api, await api.machines.destroy('oci-on-b'));
    } finally {
      if (imageId) await api.images.remove(imageId).catch(() => undefined);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 600_000);

  it('podman containers move: a running one paused and committed on A, loaded and started on B, its files along; a stopped one back by its image', async () => {
    const podmanNames = async () =>
      (await run(['podman', '--runtime', 'runc', '--cgroup-manager=cgroupfs', 'ps', '-a', '--format', '{{.Names}}'])).stdout.split('\n').filter(Boolean);
    const moveImages = async () =>
      (await run(['podman', 'images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout.split('\n').filter((l) => l.includes('hangar-move-'));
    await done(await api.machines.create({ name: 'pd-mv', image: 'bb-mv', driver: 'podman', memoryMib: 128, node: 'a' }));
    const m = await api.machines.get('pd-mv');
    expect(m.capabilities.move).toMatchObject({ available: true, running: 'restart' });
    await api.machines.exec('pd-mv', ['/bin/sh', '-c', 'echo written-on-a > /root/note']);
    const onA = (await podmanNames()).filter((n) => n.startsWith(`hangar-${m.id}`));
    expect(onA).toHaveLength(1);
    const job = await done(await api.machines.move('pd-mv', { node: 'b' }), 300_000);
    const moved = job.result as MoveResult;
    console.log(`podman container move: stopped ${moved.downtimeMs} ms, ${moved.totalS.toFixed(1)} s in all, ${moved.bytes} bytes`);
    expect(moved.live).toBe(false);
    expect(await logOf(job.id)).toMatch(/frozen here, started there/);
    expect(await api.machines.get('pd-mv')).toMatchObject({ state: 'running', node: { name: 'b' } });
    // Written on A after its start: the commit carried it (a start on its own image would not have it).
    expect((await api.machines.exec('pd-mv', ['/bin/cat', '/root/note'])).stdout).toBe('written-on-a\n');
    // Both nodes use this host's podman storage: B's container has a name of its own, A's is gone.
    const onB = (await podmanNames()).filter((n) => n.startsWith(`hangar-${m.id}`));
    expect(onB).toHaveLength(1);
    expect(onB[0]).not.toBe(onA[0]);
    expect(await moveImages()).toHaveLength(1);
    // Stopped, it moves back by its image alone, and starts on A.
    await done(await api.machines.act('pd-mv', 'stop', { timeoutS: 5 }));
    const back = await done(await api.machines.move('pd-mv', { node: 'a' }), 300_000);
    expect((back.result as MoveResult).to).toBe('a');
    await done(await api.machines.act('pd-mv', 'start'));
    expect(await api.machines.get('pd-mv')).toMatchObject({ state: 'running', node: { name: 'a' } });
    expect((await api.machines.exec('pd-mv', ['/bin/cat', '/root/note'])).stdout).toBe('written-on-a\n');
    // B's copy of the move image went with B's record.
    expect(await moveImages()).toHaveLength(1);
    // A checkpoint's commit stands on A's move image: the machine destroyed, its move image goes, and the snapshot still forks.
    const snap = ((await done(await api.snapshots.checkpoint('pd-mv', 'after-moves'))).result as { snapshot: string }).snapshot;
    await jobDone(api, await api.machines.destroy('pd-mv'));
    expect((await podmanNames()).filter((n) => n.includes(m.id))).toEqual([]);
    expect(await moveImages()).toEqual([]);
    await done(await api.snapshots.fork(snap, { names: ['pd-mv-fork'], node: 'a' }));
    expect((await api.machines.exec('pd-mv-fork', ['/bin/cat', '/root/note'])).stdout).toBe('written-on-a\n');
    await jobDone(api, await api.machines.destroy('pd-mv-fork'));
    await api.snapshots.remove(snap);
  }, 600_000);

  it("registries are the cluster's: a login made on A serves B's pulls (skopeo's, podman's), A's pull copies B's image, a removal on B reaches A", async () => {
    const { a, b, net } = nodes!;
    // B's 127.0.0.1 is not the registry's: both nodes reach it at the host's end of B's veth pair.
    const tls = await relayRegistry(sharedRegistries().tls, net.hostIp);
    const tmp = fs.mkdtempSync('/tmp/hangar-it-move-reg-');
    const authOf = (dataDir: string) => fs.readFileSync(path.join(dataDir, 'oci', 'auth.json'), 'utf8');
    let pinned = '';
    try {
      // A private image of this run's own (its digest new, so neither node nor podman has it).
      const own = path.join(tmp, 'l-own');
      fs.mkdirSync(path.join(own, 'etc'), { recursive: true });
      fs.writeFileSync(path.join(own, 'etc/private'), `private ${randomBytes(8).toString('hex')}\n`);
      writeLayout(path.join(tmp, 'layout'), [
        { tag: 'p', layers: [busyboxRoot(path.join(tmp, 'l-base')), own], config: { Cmd: ['/bin/sleep', '100000'], Env: ['PATH=/bin'] } },
      ]);
      push(path.join(tmp, 'layout'), 'p', sharedRegistries().tls, 'cluster/private:1', AUTH);
      const ref = `${tls.host}/cluster/private:1`;
      expect(authOf(b.dataDir)).not.toContain(tls.host);
      // The login, on A.
      await api.registries.put(tls.host, { insecure: false, ca: sharedRegistries().tls.caPem!, username: AUTH.user, password: AUTH.password });
      expect((await apiB.registries.list()).items).toContainEqual({ host: tls.host, insecure: false, username: AUTH.user, hasPassword: true, hasCa: true });
      // B's own pull (skopeo, into B's store) logs in with it.
      const pulled = (await done(await apiB.images.pull({ ref }))).result as { image: string; digest: string };
      expect(storedImages(ociPaths(b.dataDir)).some((i) => i.digest === pulled.digest)).toBe(true);
      expect(storedImages(ociPaths(a.dataDir)).some((i) => i.digest === pulled.digest)).toBe(false);
      // podman on B pulls the image itself, with the same login.
      pinned = `${tls.host}/cluster/private@${pulled.digest}`;
      await done(await api.machines.create({ name: 'pd-priv', image: pulled.image, driver: 'podman', memoryMib: 128, node: 'b' }));
      expect((await api.machines.exec('pd-priv', ['/bin/cat', '/etc/private'])).stdout).toMatch(/^private [0-9a-f]{16}\n$/);
      expect(authOf(a.dataDir)).toContain(tls.host);
      // A's pull of it, the registry out of reach: copied from B, which pulled it (tracked as A's copy).
      await tls.close();
      const onA = await done(await api.images.pull({ ref, policy: 'missing' }));
      expect(onA.result).toMatchObject({ image: pulled.image, digest: pulled.digest });
      expect(await logOf(onA.id)).toMatch(/copied from the node that pulled it/);
      expect(storedImages(ociPaths(a.dataDir)).some((i) => i.digest === pulled.digest)).toBe(true);
      const db = new pg.Client({ connectionString: dbUrl });
      await db.connect();
      try {
        const sql = 'select n.name from image_copies c join images i on i.id = c.image_id join nodes n on n.id = c.node_id where i.name = $1';
        expect((await db.query<{ name: string }>(sql, [pulled.image])).rows).toEqual([{ name: 'a' }]);
      } finally {
        await db.end();
      }
      // Removed on B: A's files lose it too, though A pulls nothing meanwhile.
      await apiB.registries.remove(tls.host);
      await until(
        async () => (!authOf(a.dataDir).includes(tls.host) && !fs.existsSync(path.join(a.dataDir, 'oci', 'certs', tls.host.replace(':', '_')))) || null,
        "A's copy of the login gone",
        30_000,
      );
      await jobDone(api, await api.machines.destroy('pd-priv'));
      await api.images.remove((await api.images.list()).items.find((i) => i.name === pulled.image)!.id);
    } finally {
      await api.registries.remove(tls.host).catch(() => undefined);
      if (pinned) await run(['podman', 'rmi', '-f', pinned]);
      await tls.close();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }, 300_000);

  it("a disk image's VM moves live with its seed: its console goes on on B, and it boots again there from B's files", async () => {
    const { a, b, token } = nodes!;
    const disk = buildTestDisk(a.dataDir, path.join(a.dataDir, 'tmp-test-disk.qcow2'));
    try {
      await done(await api.images.importDisk(new Uint8Array(fs.readFileSync(disk)), { name: 'tiny-disk' }));
    } finally {
      fs.rmSync(disk, { force: true });
    }
    await done(await api.machines.create({ name: 'disk-mv', image: 'tiny-disk', memoryMib: 256, node: 'a' }), 180_000);
    const m = await api.machines.get('disk-mv');
    const bootLog = async () => (await api.machines.logs('disk-mv', { tail: 1 << 20 })).text;
    // BIOS, GRUB from the disk, the kernel and initramfs off its ext4 partition.
    await until(async () => (await bootLog()).includes('hangar-ready') || null, 'busybox up from the disk', 120_000, 500);
    const own = (dataDir: string) => fs.readdirSync(path.join(dataDir, 'machines', m.id));
    const seed = own(a.dataDir).filter((f) => /seed|cidata/.test(f));
    expect(seed.length).toBeGreaterThan(0);
    const before = await serialConsole(a.url, token, m.id, 'disk-before', consoles);
    before.type('echo disk-$((40+2))-before\n');
    await before.waitFor('disk-42-before');
    const job = await done(await api.machines.move('disk-mv', { node: 'b' }), 300_000);
    expect(job.result).toMatchObject({ live: true, from: 'a', to: 'b' });
    const moved = job.result as MoveResult;
    console.log(`disk image VM live move: downtime ${moved.downtimeMs} ms, ${moved.totalS.toFixed(1)} s in all, ${moved.bytes} bytes copied ahead`);
    const after = await serialConsole(a.url, token, m.id, 'disk-after', consoles);
    after.type('echo disk-$((50+5))-after\n');
    await after.waitFor('disk-55-after');
    // Its own files came along (the seed among them); A keeps none.
    for (const f of seed) expect(own(b.dataDir)).toContain(f);
    expect(fs.existsSync(path.join(a.dataDir, 'machines', m.id))).toBe(false);
    // Stopped and started on B: the firmware boots the moved disk chain again, with the seed beside it.
    await done(await api.machines.act('disk-mv', 'stop', { timeoutS: 5 }));
    const boots = (await bootLog()).split('hangar-ready').length;
    await done(await api.machines.act('disk-mv', 'start'), 180_000);
    await until(async () => (await bootLog()).split('hangar-ready').length > boots || null, 'busybox up again on B', 120_000, 500);
    expect(await api.machines.get('disk-mv')).toMatchObject({ state: 'running', node: { name: 'b' } });
    expect((await bootLog()).split(TEST_DISK_MARK).length).toBeGreaterThan(1);
    await jobDone(api, await api.machines.destroy('disk-mv'));
    await api.images.remove((await api.images.list()).items.find((i) => i.name === 'tiny-disk')!.id);
  }, 600_000);

  it('an ISO install moves live once its CD is ejected: refused while the ISO is in the drive, then the system it booted runs on on B', async () => {
    const { a, token } = nodes!;
    const iso = buildTestIso(a.dataDir, path.join(a.dataDir, 'tmp-test.iso'));
    await api.isos.upload(new Uint8Array(fs.readFileSync(iso)), 'test.iso');
    await done(await api.machines.create({ name: 'iso-mv', iso: 'test.iso', diskGib: 1, memoryMib: 256, node: 'a' }), 180_000);
    const screen = await RfbClient.overWebsocket(`${a.url.replace(/^http/, 'ws')}/api/machines/iso-mv/display`, { authorization: `Bearer ${token}` });
    try {
      // grub's menu (white on blue) waits for Enter; busybox then comes up from the CD's initramfs, in memory.
      await screen.untilBlue(1 / 2, 'the boot menu on the screen');
      const serial = async () => (await api.machines.logs('iso-mv', { tail: 1 << 20 })).text;
      // The kernel's command line on the serial console: the menu took Enter.
      await screen.typeUntil('\n', async () => (await serial()).includes(TEST_ISO_MARK), 'the kernel of the boot menu');
      // The screen stays open until busybox is up: nothing typed is cut off by its close.
      await until(async () => (await serial()).includes('hangar-ready'), 'busybox up from the CD', 120_000, 500);
    } finally {
      screen.close();
    }
    await expect(api.machines.move('iso-mv', { node: 'b' })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/eject the CD-ROM first: its ISO "test.iso" is in this node's library/),
    });
    await api.isos.cdrom('iso-mv', { action: 'eject' });
    const job = await done(await api.machines.move('iso-mv', { node: 'b' }), 300_000);
    expect(job.result).toMatchObject({ live: true, from: 'a', to: 'b' });
    expect(await api.machines.get('iso-mv')).toMatchObject({ state: 'running', node: { name: 'b' }, cdrom: null });
    // The same system, booted from the CD on A, answers on B.
    expect((await api.machines.exec('iso-mv', ['cat', '/proc/cmdline'])).stdout).toContain(TEST_ISO_MARK);
    await done(await api.machines.destroy('iso-mv'));
  }, 600_000);
});
