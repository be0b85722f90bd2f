import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { firstLine, run } from '../exec';
import type { BootFiles, LiveMoveOps, MachineDriver, MachineSpec, MoveAccess, MoveEndpoint, MoveFile, MovePlan } from '../types';
import { diskNameSchema } from '@/lib/contracts/disks';
import type { HostInfo } from '@/lib/contracts/host';
import { machineFiles } from './argv';
import { topNode } from './disks';
import { extrasOf } from './disks-argv';
import { virtualSize } from './overlay';
import { backingChain } from './qcow2';
import { moveKey, moveTlsOff, moveTlsOn, MOVE_TLS_ID } from './move-tls';
import { Qmp } from './qmp';
import { diskOf, qemuRuntime } from './runtime';
import { seedOf } from './seed';

/**
 * The machine's own files a move carries (those present): its SSH identity and pin, its console log, a disk
 * image machine's cloud-init seed and a UEFI machine's variable store.
 */
const OWN = ['id_ed25519', 'id_ed25519.pub', 'ssh_host_key.sha256', 'serial.log', 'seed.iso', 'OVMF_VARS.fd'];
/** Those a running guest may write while the move runs: a copy as of the listing goes (summed, then fetched, unchanged). */
const WRITTEN = new Set(['serial.log', 'OVMF_VARS.fd']);
/** Names QEMU's block graph gets for a move (the mirror's target on the sender, its job, the receiver's export). */
const MIRROR_TARGET = 'hangar-move-target';
const MIRROR_JOB = 'hangar-move';
const EXPORT = 'hangar-move';
/** The most of the guest's stop QEMU aims for at the switch (ms); under TCG the stop is usually well under it. */
const DOWNTIME_LIMIT_MS = 300;

const isQcow2 = (file: string): boolean => {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    return fs.readSync(fd, b, 0, 4, 0) === 4 && b.readUInt32BE(0) === 0x514649fb;
  } finally {
    fs.closeSync(fd);
  }
};

async function qemuImg(argv: string[]): Promise<void> {
  const r = await run(['qemu-img', ...argv], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`qemu-img ${argv[0]} failed: ${firstLine(r.stderr)}`);
}

/** A TCP port free on `host` just now (the receiving qemu binds it a moment later). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Where each side keeps the move's TLS key while the move lasts (in the machine's own directory). */
const tlsDir = (m: MachineSpec, side: 'in' | 'out') => path.join(m.dir, `move-tls-${side}`);

/** The root disk's node in QEMU's block graph: the drive with a name of its own that is not a CD-ROM. */
async function rootNode(q: Qmp): Promise<string> {
  const blocks = await q.execute<{ device?: string; removable?: boolean; inserted?: { 'node-name'?: string } }[]>('query-block');
  const node = blocks.find((b) => b.device && !b.removable && b.inserted?.['node-name'])?.inserted?.['node-name'];
  if (!node) throw new Error('qemu shows no root disk to move');
  return node;
}

/** What the sending node says of each extra disk (in the record's order): how many layers lie below its writable one, its size. */
const movedDisksSchema = z.array(z.object({ layers: z.number().int().min(0).max(64), bytes: z.number().int().positive() })).max(15);

/**
 * One disk's chain placed on this node from the files that came (named `${from}layer-N`, `${from}top`):
 * the layers below its writable one renamed to `${to}-movedN-*.qcow2` and re-pointed bottom up, then its
 * writable layer: the one that came, or for a disk a live move mirrors (`fresh`: its size in bytes) a new
 * empty one over them that the mirror fills. Returns the writable layer's path; every file made is in `made`.
 */
async function placeChain(
  got: Map<string, string>,
  made: string[],
  o: { from: string; to: string; what: string; layers: number; fresh: number | null },
): Promise<string> {
  let below: string | null = null;
  const put = async (file: string, label: string) => {
    const to = `${o.to}-${label}${randomBytes(4).toString('hex')}.qcow2`;
    fs.renameSync(file, to);
    made.push(to);
    if (below && isQcow2(to)) await qemuImg(['rebase', '-u', '-b', below, '-F', isQcow2(below) ? 'qcow2' : 'raw', to]);
    below = to;
    return to;
  };
  for (let i = 0; i < o.layers; i++) {
    const f = got.get(`${o.from}layer-${i}`);
    if (!f) throw new Error(`layer ${i} of ${o.what} did not arrive`);
    await put(f, `moved${i}-`);
  }
  if (o.fresh === null) {
    const f = got.get(`${o.from}top`);
    if (!f) throw new Error(`the writable layer of ${o.what} did not arrive`);
    return put(f, 'top-');
  }
  if (!(o.fresh > 0)) throw new Error('a live move needs the size of each disk it mirrors');
  const top = `${o.to}-${randomBytes(4).toString('hex')}.qcow2`;
  const b: string | null = below;
  await qemuImg(['create', '-q', '-f', 'qcow2', ...(b ? ['-b', b, '-F', isQcow2(b) ? 'qcow2' : 'raw'] : []), top, String(o.fresh)]);
  made.push(top);
  return top;
}

/** A disk a live move mirrors (the root disk, or an attached extra disk by its fixed slot): its node in QEMU, the names the move gives it. */
interface Mirrored {
  label: string;
  node: string;
  target: string;
  job: string;
  export: string;
}

/** The disks of a running machine a live move mirrors, as named in this QEMU (the sender's, or the receiver's waiting one). */
async function mirrored(q: Qmp, runtime: MachineSpec['runtime']): Promise<Mirrored[]> {
  const out: Mirrored[] = [{ label: 'the root disk', node: await rootNode(q), target: MIRROR_TARGET, job: MIRROR_JOB, export: EXPORT }];
  for (const d of extrasOf(runtime).disks.filter((x) => x.attached)) {
    const tag = `-d${d.slot}`;
    out.push({ label: `disk "${d.name}"`, node: await topNode(q, d.name), target: MIRROR_TARGET + tag, job: MIRROR_JOB + tag, export: EXPORT + tag });
  }
  return out;
}

/**
 * QEMU VMs between nodes. The root disk's chain below the writable layer (the image's base and
 * snapshot layers) never changes while the guest runs: it is copied first, and on the receiving
 * node each copy is re-pointed at the copy below it. A stopped machine's writable layer is copied
 * the same way. A running one moves the way libvirt and Proxmox move one without shared storage:
 * the receiver starts the same command line on `-incoming` with a fresh writable layer exported
 * over NBD, the sender mirrors its writable layer into it (`blockdev-mirror`, sync top) until both
 * are in step, then migrates; QEMU keeps the mirror in step until the switch, so nothing is lost.
 */
export function qemuMove(driver: MachineDriver): MoveAccess {
  const live: LiveMoveOps = {
    async receive(m: MachineSpec, image: BootFiles, host: HostInfo, listen: string) {
      const started = await driver.start(m, image, { host, migrateIn: true });
      const spec = { ...m, runtime: started.runtime };
      const endpoint: MoveEndpoint = { host: listen, migrate: await freePort(listen), nbd: await freePort(listen), key: moveKey() };
      const q = await Qmp.connect(machineFiles(m.dir).qmpSock);
      try {
        // Both streams take TLS with this move's key only: a peer without it is refused before it sends a byte.
        await moveTlsOn(q, tlsDir(m, 'in'), endpoint.key, 'server');
        await q.execute('migrate-incoming', { uri: `tcp:${listen}:${endpoint.migrate}` });
        await q.execute('nbd-server-start', { addr: { type: 'inet', data: { host: listen, port: String(endpoint.nbd) } }, 'tls-creds': MOVE_TLS_ID });
        for (const x of await mirrored(q, m.runtime))
          await q.execute('block-export-add', { type: 'nbd', id: x.export, 'node-name': x.node, name: x.export, writable: true });
      } catch (err) {
        await driver.stop(spec, { force: true, timeoutMs: 0 }).catch(() => undefined);
        throw err;
      } finally {
        q.close();
      }
      return { runtime: started.runtime, endpoint };
    },

    async send(m, to, progress, signal) {
      const q = await Qmp.connect(machineFiles(m.dir).qmpSock);
      const log: string[] = [];
      let disks: Mirrored[] = [];
      let mirroring = false;
      const cancelMirrors = (force: boolean) =>
        Promise.all(disks.map((x) => q.execute('block-job-cancel', { device: x.job, ...(force ? { force: true } : {}) }).catch(() => undefined)));
      try {
        disks = await mirrored(q, m.runtime);
        await moveTlsOn(q, tlsDir(m, 'out'), to.key, 'client');
        for (const x of disks)
          await q.execute('blockdev-add', {
            driver: 'nbd',
            'node-name': x.target,
            server: { type: 'inet', host: to.host, port: String(to.nbd) },
            export: x.export,
            'tls-creds': MOVE_TLS_ID,
          });
        mirroring = true;
        for (const x of disks) await q.execute('blockdev-mirror', { 'job-id': x.job, device: x.node, target: x.target, sync: 'top' });
        for (;;) {
          if (signal.aborted) throw new Error('the move was cancelled');
          const jobs = await q.execute<{ device: string; ready?: boolean; offset?: number; len?: number }[]>('query-block-jobs');
          const ours = disks.map((x) => jobs.find((j) => j.device === x.job));
          const gone = ours.findIndex((j) => !j);
          if (gone >= 0) throw new Error(`the mirror of ${disks[gone].label} ended before it was in step (the other node went away?)`);
          const len = ours.reduce((n, j) => n + (j?.len ?? 0), 0);
          if (len) progress(Math.floor((ours.reduce((n, j) => n + (j?.offset ?? 0), 0) / len) * 30));
          if (ours.every((j) => j?.ready)) break;
          await sleep(50);
        }
        const what = disks.length > 1 ? `the writable layers of ${disks.map((x) => x.label).join(', ')} are` : 'the writable layer is';
        log.push(`disk: ${what} mirrored to the other node and kept in step (NBD over TLS, a key for this move only)`);
        progress(30, 'Moving the memory');
        await q.execute('migrate-set-parameters', { 'downtime-limit': DOWNTIME_LIMIT_MS, 'max-bandwidth': 8 * 2 ** 30 });
        await q.execute('migrate', { uri: `tcp:${to.host}:${to.migrate}` });
        for (;;) {
          const s = await q.execute<{
            status: string;
            downtime?: number;
            'total-time'?: number;
            'error-desc'?: string;
            ram?: { total: number; transferred: number; remaining: number };
          }>('query-migrate');
          if (s.status === 'completed') {
            const sent = ((s.ram?.transferred ?? 0) / 2 ** 20).toFixed(1);
            log.push(`memory: ${sent} MiB sent over TLS in ${s['total-time'] ?? '?'} ms; the guest stopped for ${s.downtime ?? '?'} ms`);
            await cancelMirrors(false);
            mirroring = false;
            return { downtimeMs: s.downtime ?? 0, log };
          }
          if (s.status === 'failed' || s.status === 'cancelled') throw new Error(`the migration ${s.status}${s['error-desc'] ? `: ${s['error-desc']}` : ''}`);
          if (signal.aborted) await q.execute('migrate_cancel').catch(() => undefined);
          if (s.ram?.total) progress(30 + Math.min(65, Math.floor(((s.ram.total - s.ram.remaining) / s.ram.total) * 65)));
          await sleep(30);
        }
      } catch (err) {
        // The guest keeps running here: the mirrors and their targets go, and a guest a failed switch left stopped runs again.
        if (mirroring) await cancelMirrors(true);
        for (let i = 0; i < 100; i++) {
          const jobs = await q.execute<{ device: string }[]>('query-block-jobs').catch(() => []);
          if (!jobs.some((j) => disks.some((x) => x.job === j.device))) break;
          await sleep(50);
        }
        for (const x of disks) await q.execute('blockdev-del', { 'node-name': x.target }).catch(() => undefined);
        // The guest stays here: its later checkpoints migrate to a file, without TLS.
        await moveTlsOff(q, tlsDir(m, 'out'));
        const st = await q.execute<{ running: boolean }>('query-status').catch(() => null);
        if (st && !st.running) await q.execute('cont').catch(() => undefined);
        throw err;
      } finally {
        q.close();
      }
    },

    async settle(m) {
      const q = await Qmp.connect(machineFiles(m.dir).qmpSock);
      try {
        // QEMU runs the guest once the stream is whole (no -S): the export only has to go.
        for (let i = 0; ; i++) {
          const st = await q.execute<{ running: boolean; status: string }>('query-status');
          if (st.running) break;
          if (i > 600) throw new Error(`the guest is ${st.status} on this node after the move`);
          await sleep(50);
        }
        await q.execute('nbd-server-stop').catch(() => undefined);
        await moveTlsOff(q, tlsDir(m, 'in'));
      } finally {
        q.close();
      }
    },
  };

  return {
    live,

    plan(m: MachineSpec, isLive: boolean, tmp: string): MovePlan {
      const disk = diskOf(m);
      const below = backingChain(disk).slice(1).reverse();
      const frozen: MoveFile[] = below.map((p, i) => ({ name: `layer-${i}`, path: p }));
      const own: MoveFile[] = isLive ? [] : [{ name: 'top', path: disk }];
      // Extra disks the same way, each its own chain; a running guest's attached ones are mirrored like the root
      // disk, while a detached one is a file nothing writes now and goes whole.
      const disks = extrasOf(m.runtime).disks.map((d, i) => {
        const layers = backingChain(d.file).slice(1).reverse();
        layers.forEach((p, j) => frozen.push({ name: `disk${i}-layer-${j}`, path: p }));
        if (!isLive) own.push({ name: `disk${i}-top`, path: d.file });
        else if (!d.attached) frozen.push({ name: `disk${i}-top`, path: d.file });
        return { layers: layers.length, bytes: virtualSize(d.file) };
      });
      for (const f of OWN) {
        let p = path.join(m.dir, f);
        if (!fs.existsSync(p)) continue;
        // A running guest's console log grows while it is copied (its UEFI variables may change): their copies as of now go.
        if (WRITTEN.has(f)) {
          fs.copyFileSync(p, path.join(tmp, f));
          p = path.join(tmp, f);
        }
        own.push({ name: `dir-${f}`, path: p });
      }
      return { frozen, own, meta: { diskBytes: virtualSize(disk), layers: below.length, disks } };
    },

    async place(m, got, meta, isLive) {
      fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
      const made: string[] = [];
      try {
        const rt = qemuRuntime(m.runtime);
        const root = await placeChain(got, made, {
          from: '',
          to: `${m.layers}/${m.id}`,
          what: 'the disk',
          layers: Number(meta.layers) || 0,
          fresh: isLive ? Number(meta.diskBytes) : null,
        });
        const sent = movedDisksSchema.safeParse(meta.disks ?? []);
        const { disks } = extrasOf(m.runtime);
        if (!sent.success || sent.data.length !== disks.length) throw new Error("the extra disks' description did not arrive whole");
        const placed = [];
        for (const [i, d] of disks.entries()) {
          // The name becomes part of a file name here: only what a disk can be named passes (never `../`).
          if (!diskNameSchema.safeParse(d.name).success) throw new Error(`extra disk ${i} has a name no disk can have`);
          const fresh = isLive && d.attached ? sent.data[i].bytes : null;
          const file = await placeChain(got, made, {
            from: `disk${i}-`,
            to: `${m.layers}/${m.id}-d-${d.name}`,
            what: `extra disk "${d.name}"`,
            layers: sent.data[i].layers,
            fresh,
          });
          placed.push({ ...d, file });
        }
        for (const [name, file] of got) if (name.startsWith('dir-') && OWN.includes(name.slice(4))) fs.renameSync(file, path.join(m.dir, name.slice(4)));
        const { pid: _pid, ramPath: _r, ramShared: _s, standby: _st, standbyLoaded: _sl, ...kept } = rt;
        // serialFrom stays: the console log came whole, so this boot's output starts where it did.
        // A disk image machine's seed came with its own files (OWN): its drive reads it here.
        const seed = rt.seed ? { seed: seedOf(m.dir) } : {};
        return { runtime: { ...kept, disk: root, ...(disks.length ? { disks: placed } : {}), ...seed, pid: null, sshPort: null }, made };
      } catch (err) {
        for (const f of made) fs.rmSync(f, { force: true });
        throw err;
      }
    },
  };
}
