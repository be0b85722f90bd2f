import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Socket } from 'socket.io-client';
import type { ApiClient } from '@/lib/api-client';
import type { MoveResult } from '@/lib/contracts/moves';
import { run } from '@/server/drivers/exec';
import { ociPaths, storedImages } from '@/server/drivers/oci/store';
import { jobDone, serialConsole, until } from './harness';
import { jobsThrough, processesNaming } from './node-files';
import { AUTH, busyboxRoot, push, relayRegistry, writeLayout } from './oci-registry';
import { sharedRegistries } from './oci-world';
import { RfbClient } from './rfb-client';
import { moveCluster, type SharedCluster } from './shared-cluster';
import { buildTestDisk, buildTestIso, TEST_DISK_MARK, TEST_ISO_MARK } from './test-iso';

/**
 * Moves between nodes of what stands on images (issue 21), on the lane's two-node cluster
 * (shared-cluster.ts): an OCI image's container (the image's layers copied to B's store, checked by
 * digest), podman containers (committed, saved, loaded), a private image pulled on B with a login
 * made on A (registries are the cluster's), a disk image's VM live with its cloud-init seed, and an
 * ISO install live once its CD is ejected. Machines moved by their
 * own files (busybox VMs, nspawn containers): cluster-move.int.test.ts.
 */
let nodes: SharedCluster | undefined;
let api: ApiClient;
let apiB: ApiClient;
const consoles: Socket[] = [];
const { logOf, done } = jobsThrough(() => api);

// The busybox image's kernel and initramfs go into the test disk and ISO; its root filesystem is bb-mv's.
moveCluster({ consoles, ready: (c) => ({ api, apiB } = nodes = c) });

describe('moves between nodes of what stands on images', () => {
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
      const db = new pg.Client({ connectionString: nodes!.dbUrl });
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
