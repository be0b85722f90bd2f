import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Store } from '@/db/client';
import { readJsonLines } from '@/lib/client/ndjson';
import type { Job } from '@/lib/contracts/jobs';
import type { Machine } from '@/lib/contracts/machines';
import { moveReceiveLineSchema, type MoveBody, type MoveReceiveBody, type MoveReceiveLine, type MoveResult } from '@/lib/contracts/moves';
import type { MachineDriver, MachineSpec, MoveEndpoint } from '@/server/drivers/types';
import type { Principal } from '../auth';
import { ConflictError, HangarError, NotFoundError, UnavailableError } from '../errors';
import type { HostService } from '../host';
import { pullsOci, type ImageService } from '../images';
import type { JobContext } from '../jobs';
import type { MachineService } from '../machines';
import { resolveInside } from '../paths';
import { blankBoot } from '../machine-admission';
import { layersInUse } from '../snapshot-gc';
import type { Cluster } from './cluster';
import { MoveImageHolds } from './move-holds';
import { refusal } from './placement';
import { causeOf, fetchFromNode, mib } from './transfer';

/** The internal routes of a move (server/api/moves.ts): the receiving node's, and the sender's files. */
export const MOVE_PATHS = {
  check: '/api/internal/moves/check',
  image: '/api/internal/moves/image',
  receive: '/api/internal/moves/receive',
  file: (id: string, name: string) => `/api/internal/moves/${id}/files/${name}`,
  settle: (id: string) => `/api/internal/moves/${id}/settle`,
  abort: (id: string) => `/api/internal/moves/${id}/abort`,
};

export interface MoveDeps {
  store: Store;
  cluster: Cluster;
  machines: MachineService;
  images: ImageService;
  host: HostService;
  dirs: { machines: string; layers: string; moves: string };
}

/** A move this node receives: what it placed, removed if the move fails. */
interface Incoming {
  spec: MachineSpec;
  driver: MachineDriver;
  live: boolean;
  made: string[];
  work: string;
  /** Its files are placed here: `spec` has this node's record of it (before that, the sender's, which names the sender's processes). */
  placed: boolean;
  timer?: NodeJS.Timeout;
}

/** How a machine moves: stopped (its files copied), live (QEMU's migration) or by restart (held, copied, started there). */
type MoveHow = 'stopped' | 'live' | 'restart';

/** A receiving node that heard nothing more of a move for this long ends it (its sender went away). */
const ORPHAN_MS = 15 * 60_000;

/**
 * Moves of machines between nodes (issue 21 step 6). The node that runs the machine takes the
 * request (the route's owner rule forwards it there) and runs the job: it asks the other node
 * whether it would take the machine (driver, memory, ports: 409 before anything moves), lists the
 * files with the driver, and has the other node fetch them over the node-signed internal routes
 * (size and SHA-256 of each checked before use) and place them; a running machine whose driver
 * moves it live is then started there waiting, and sent. Only when the other node has it does the
 * row name that node; this node's process and files go last. Any failure before that leaves the
 * machine where it was (running, for a live move) and has the other node remove what it made.
 * Snapshots stay on their node (their layers are copied, not moved).
 */
export class MoveService {
  private readonly outgoing = new Map<string, Map<string, string>>();
  private readonly incoming = new Map<string, Incoming>();
  /** Moves to this node, by id: the image copy each stands on, kept from eviction until the move ends. */
  private readonly imageHolds: MoveImageHolds;
  /** Transfers run until whole or cut: a sender that gives up calls abort, which removes what they made. */
  private readonly stopping = new AbortController();

  constructor(private readonly d: MoveDeps) {
    this.imageHolds = new MoveImageHolds(() => d.images.copies, ORPHAN_MS);
  }

  async move(p: Principal, ref: string, body: MoveBody): Promise<Job> {
    const { machines, cluster } = this.d;
    const row = await machines.row(ref);
    const m = machines.views.view(row);
    if (!cluster.enabled) throw new ConflictError('Moves need a cluster: this server is its only node.');
    const target = (await cluster.nodes()).find((n) => n.name === body.node);
    if (!target) throw new NotFoundError(`Node ${body.node}`);
    if (target.id === cluster.self.id) throw new ConflictError(`${m.name} is on node ${target.name} already.`);
    const why = refusal(target, m.driver);
    if (why) throw new ConflictError(`Cannot move ${m.name}: ${why}.`);
    const running = m.state === 'running';
    if (!running && m.state !== 'stopped' && m.state !== 'failed') throw new ConflictError(`Cannot move ${m.name}: it is ${m.state}.`);
    const can = running ? m.capabilities.move.live : m.capabilities.move;
    // A running machine moves live (its memory kept) or by restart (held, copied, started there), as its driver describes it.
    const how: MoveHow = !running ? 'stopped' : m.capabilities.move.running === 'memory' ? 'live' : 'restart';
    const driver = machines.driver(m.driver);
    if (!can.available || !driver.move || (how === 'live' && !driver.move.live) || (how === 'restart' && !driver.move.hold))
      throw new ConflictError(`Cannot move ${m.name}${running ? ' while it runs' : ''}: ${can.reason ?? 'its driver does not move machines'}.`);
    machines.locks.assertFree(m.id);
    const to = cluster.requireOnline(target.id);
    await this.call(to, MOVE_PATHS.check, { machineId: m.id, driver: m.driver, memoryMib: m.memoryMib, ports: m.ports });
    const title = `Move ${m.name} to node ${target.name}${how === 'stopped' ? '' : ` (${how})`}`;
    return machines.lockedJob(p, m, 'moving', { kind: 'machine.move', title }, (ctx) => this.run(m, driver, to, how, ctx));
  }

  private async run(m: Machine, driver: MachineDriver, to: { id: string; name: string; url: string }, how: MoveHow, ctx: JobContext): Promise<MoveResult> {
    const { machines, cluster } = this.d;
    const t0 = performance.now();
    const live = how === 'live';
    const row = await machines.row(m.id);
    const spec = machines.toSpec(row);
    if (how !== 'stopped' && row.state !== 'running') throw new ConflictError(`${m.name} stopped before its move began.`);
    const move = driver.move!;
    const moveId = `mv_${randomBytes(18).toString('base64url')}`;
    fs.mkdirSync(this.d.dirs.moves, { recursive: true, mode: 0o700 });
    const tmp = resolveInside(this.d.dirs.moves, `.${moveId}.out`);
    fs.mkdirSync(tmp, { mode: 0o700 });
    let committed = false;
    let downtimeMs: number | null = null;
    let release: (() => Promise<void>) | null = null;
    let heldAt = 0;
    let bytes = 0;
    /** The other node made the image ready (and holds it) for this move: a failure asks it to let go. */
    let prepared = false;
    try {
      if (how === 'restart') {
        // The image first (a copy to that node can take long): the container is held only while its own files go.
        if (row.image) {
          ctx.progress(1, `Making image ${row.image} ready on node ${to.name}`);
          await this.call(to, MOVE_PATHS.image, { moveId, image: row.image, driver: m.driver }, 30 * 60_000);
          prepared = true;
          ctx.log(`image ${row.image} is on node ${to.name}`);
        }
        ctx.progress(1, 'Freezing it while its files are copied');
        release = await move.hold!(spec);
        heldAt = performance.now();
      }
      ctx.progress(2, 'Listing the files');
      // Running: moved live, or held (a restart) while its files are packed.
      const plan = await move.plan(spec, how !== 'stopped', tmp);
      const files = [];
      for (const f of [...plan.frozen.map((x) => ({ ...x, frozen: true })), ...plan.own.map((x) => ({ ...x, frozen: false }))]) {
        const sum = await sha256Of(f.path);
        files.push({ name: f.name, bytes: sum.bytes, sha256: sum.sha256, frozen: f.frozen, path: f.path });
        bytes += sum.bytes;
      }
      ctx.log(`${files.length} files to copy to node ${to.name} (${mib(bytes)} MiB): ${files.map((f) => f.name).join(', ')}`);
      this.outgoing.set(moveId, new Map(files.map((f) => [f.name, f.path])));
      ctx.progress(5, `Node ${to.name} copies the files`);
      const body: MoveReceiveBody = {
        moveId,
        machine: {
          id: m.id,
          name: m.name,
          driver: m.driver,
          image: row.image,
          cpus: row.cpus,
          memoryMib: row.memoryMib,
          diskGib: row.diskGib,
          ports: spec.ports,
          runtime: { ...spec.runtime },
        },
        live,
        start: how === 'restart',
        files: files.map(({ path: _p, ...f }) => f),
        meta: plan.meta,
      };
      const ready = await this.receiveOn(to, body, ctx);
      if (live) {
        if (!ready.endpoint) throw new UnavailableError(`node ${to.name} did not say where to send the machine`);
        ctx.progress(60, 'Mirroring the disk');
        const sent = await move.live!.send(spec, ready.endpoint as MoveEndpoint, (pct, line) => ctx.progress(60 + Math.floor(pct * 0.35), line), ctx.signal);
        for (const l of sent.log) ctx.log(l);
        downtimeMs = sent.downtimeMs;
      }
      await this.call(to, MOVE_PATHS.settle(moveId), {});
      // From here the machine is the other node's: its row says so before this node's copy goes.
      await machines.patch(m.id, { nodeId: to.id, runtime: ready.runtime, state: how === 'stopped' ? 'stopped' : 'running', stateReason: null });
      committed = true;
      if (how === 'restart') downtimeMs = Math.round(performance.now() - heldAt);
      ctx.progress(96, 'Removing the files left here');
      machines.onGone(m.id);
      const chain = driver.layersOf(spec.runtime);
      await driver.destroy(spec).catch((err: Error) => ctx.log(`removing the files here failed (${err.message}): remove ${spec.dir} by hand`));
      // Layers below its writable one that only it stood on here (copies an earlier move made): no snapshot here needs them.
      const used = await layersInUse(this.d.store, machines);
      // A layer is a file (a VM's) or a directory (a container's).
      for (const f of chain) if (f.startsWith(path.resolve(this.d.dirs.layers) + path.sep) && !used.has(f)) fs.rmSync(f, { recursive: true, force: true });
      const totalS = (performance.now() - t0) / 1000;
      const stopped =
        downtimeMs === null
          ? ''
          : how === 'restart'
            ? `; it was stopped ${downtimeMs} ms at the switch (frozen here, started there)`
            : `; the guest was stopped ${downtimeMs} ms at the switch`;
      ctx.log(`${m.name} is on node ${to.name} now (${totalS.toFixed(1)} s${stopped})`);
      return { machine: m.id, from: cluster.self.name, to: to.name, live, downtimeMs, bytes, totalS };
    } catch (err) {
      if (!committed) {
        if (prepared || this.outgoing.has(moveId))
          await this.call(to, MOVE_PATHS.abort(moveId), {}).catch((e: Error) => ctx.log(`node ${to.name} could not remove what it made: ${e.message}`));
        if (release) await release().catch((e: Error) => ctx.log(`thawing ${m.name} here failed: ${e.message}`));
        const why = err instanceof Error ? err.message : String(err);
        const keeps = how === 'stopped' ? '' : ` (it keeps running on node ${cluster.self.name})`;
        throw new ConflictError(`Moving ${m.name} to node ${to.name} failed: ${why}${keeps}`);
      }
      throw err;
    } finally {
      this.outgoing.delete(moveId);
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }

  /** The receiving node's answer to a move: its progress lines into the job, then the machine's record there (and where to send it). */
  private async receiveOn(to: { id: string; name: string; url: string }, body: MoveReceiveBody, ctx: JobContext) {
    const res = await this.post(to, MOVE_PATHS.receive, body, ctx.signal);
    if (!res.body) throw new UnavailableError(`node ${to.name} answered without a body`);
    let ready: Extract<MoveReceiveLine, { t: 'ready' }> | null = null;
    const take = (v: unknown) => {
      const line = moveReceiveLineSchema.parse(v);
      if (line.t === 'progress') {
        ctx.progress(5 + Math.floor(line.pct * 0.55), line.line);
        if (line.line) ctx.log(`node ${to.name}: ${line.line}`);
      } else if (line.t === 'error') throw new Error(line.message);
      else ready = line;
    };
    // A read that fails is the node going away; a line saying `error` is its refusal.
    const answer = res.body;
    async function* chunks() {
      const reader = answer.getReader();
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (err) {
          throw new Error(`node ${to.name} went away while it took the machine (${causeOf(err)})`, { cause: err });
        }
        if (chunk.done) return;
        yield chunk.value;
      }
    }
    await readJsonLines(chunks(), take);
    if (!ready) throw new Error(`node ${to.name} stopped answering before it had the machine`);
    return ready as Extract<MoveReceiveLine, { t: 'ready' }>;
  }

  private async post(to: { name: string; url: string }, pathAndQuery: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    let res: Response;
    try {
      res = await fetch(to.url.replace(/\/+$/, '') + pathAndQuery, {
        method: 'POST',
        headers: { ...this.d.cluster.sign('POST', pathAndQuery), 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal,
      });
    } catch (err) {
      throw new UnavailableError(`node ${to.name} did not answer (${causeOf(err)})`);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => '');
    let msg = `node ${to.name} answered HTTP ${res.status}`;
    try {
      msg = (JSON.parse(text) as { error?: { message?: string } }).error?.message ?? msg;
    } catch {
      // Not the error envelope: the status says enough.
    }
    // The other node's refusal, as it said it (its memory, its driver...), is this request's.
    throw res.status === 409 ? new ConflictError(msg) : res.status === 404 ? new HangarError('not_found', msg) : new UnavailableError(msg);
  }

  private async call(to: { name: string; url: string }, pathAndQuery: string, body: unknown, timeoutMs = 120_000): Promise<void> {
    const res = await this.post(to, pathAndQuery, body, AbortSignal.timeout(timeoutMs));
    await res.body?.cancel().catch(() => undefined);
  }

  /** The file of a move under way this node sends, by its name (null: no such move or file). */
  file(moveId: string, name: string): string | null {
    return this.outgoing.get(moveId)?.get(name) ?? null;
  }

  // ---- the receiving node ----

  /** Would this node take the machine: its driver runs here, its memory fits under the limit, its ports are free. */
  async check(body: { machineId: string; driver: Machine['driver']; memoryMib: number; ports: MachineSpec['ports'] }): Promise<void> {
    const node = this.d.cluster.self.name;
    const wrap = async (fn: () => Promise<void>) =>
      fn().catch((err: unknown) => {
        const msg = err instanceof Error ? err.message : String(err);
        throw new ConflictError(`node ${node} cannot take it: ${msg}`);
      });
    await wrap(() => this.d.machines.requireDriver(body.driver));
    await wrap(() => this.d.machines.preflight(body.machineId, body.memoryMib, body.ports));
    if (fs.existsSync(resolveInside(this.d.dirs.machines, body.machineId))) throw new ConflictError(`node ${node} has files of that machine already`);
  }

  /** The image's files on this node before a container is held for its move here (`receive` finds them then). */
  async prepareImage(body: { moveId: string; image: string; driver: Machine['driver'] }): Promise<void> {
    this.imageHolds.hold(body.moveId, body.image, true);
    try {
      await this.imageFiles(body.image, body.driver, (l) => console.log(`moves: ${l}`));
    } catch (err) {
      this.imageHolds.release(body.moveId);
      throw err;
    }
  }

  /** An image's files on this node, copied when another node holds them (none for a driver that pulls OCI images itself). */
  private imageFiles(image: string, driver: Machine['driver'], log: (line: string) => void) {
    return this.d.images.files(image, { pull: pullsOci(this.d.machines.describe(driver)), report: { log } });
  }

  /** Fetch the files, check and place them, and for a live move start the machine waiting: progress lines, then `ready` (or `error`). */
  receive(body: MoveReceiveBody, fromNode: string): ReadableStream<Uint8Array> {
    const enc = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      start: async (controller) => {
        const say = (l: MoveReceiveLine) => controller.enqueue(enc.encode(JSON.stringify(l) + '\n'));
        try {
          say(await this.take(body, fromNode, (pct, line) => say({ t: 'progress', pct, line })));
        } catch (err) {
          await this.drop(body.moveId);
          say({ t: 'error', message: err instanceof Error ? err.message : String(err) });
        }
        controller.close();
      },
    });
  }

  private async take(body: MoveReceiveBody, fromNode: string, progress: (pct: number, line?: string) => void): Promise<MoveReceiveLine> {
    const { machines, cluster } = this.d;
    const from = cluster.requireOnline(fromNode);
    await this.check({ machineId: body.machine.id, driver: body.machine.driver, memoryMib: body.machine.memoryMib, ports: body.machine.ports });
    const driver = machines.driver(body.machine.driver);
    if (!driver.move || (body.live && !driver.move.live)) throw new ConflictError(`${body.machine.driver} machines do not move to this node`);
    if (this.incoming.has(body.moveId)) throw new ConflictError('that move is under way already');
    const spec: MachineSpec = {
      id: body.machine.id,
      name: body.machine.name,
      dir: resolveInside(this.d.dirs.machines, body.machine.id),
      layers: this.d.dirs.layers,
      cpus: body.machine.cpus,
      memoryMib: body.machine.memoryMib,
      diskGib: body.machine.diskGib,
      ports: body.machine.ports,
      runtime: body.machine.runtime,
    };
    fs.mkdirSync(this.d.dirs.moves, { recursive: true, mode: 0o700 });
    const work = resolveInside(this.d.dirs.moves, `.${body.moveId}.part`);
    fs.mkdirSync(work, { mode: 0o700 });
    const entry: Incoming = { spec, driver, live: body.live, made: [], work, placed: false };
    this.incoming.set(body.moveId, entry);
    this.imageHolds.hold(body.moveId, body.machine.image, false);
    const total = body.files.reduce((a, f) => a + f.bytes, 0) || 1;
    let done = 0;
    let shown = -1;
    const got = new Map<string, string>();
    for (const f of body.files) {
      const file = path.join(work, f.name);
      const reason = (why: string) => new UnavailableError(`copying ${f.name} from node ${from.name} failed: ${why}`);
      const onProgress = (filePct: number) => {
        const n = done + (f.bytes * filePct) / 100;
        const pct = Math.floor((n / total) * 90);
        if (Math.floor(pct / 10) > shown) {
          shown = Math.floor(pct / 10);
          progress(pct, `copied ${mib(n)} of ${mib(total)} MiB`);
        } else progress(pct);
      };
      const pathAndQuery = MOVE_PATHS.file(body.moveId, f.name);
      await fetchFromNode({
        cluster,
        from,
        pathAndQuery,
        file,
        signal: this.stopping.signal,
        rateBytes: 0,
        progress: onProgress,
        log: () => undefined,
        reason,
      });
      // Checked before anything uses it: the length the sender announced, and the SHA-256 it summed.
      const sum = await sha256Of(file);
      if (sum.bytes !== f.bytes || sum.sha256 !== f.sha256)
        throw reason(`${f.name} arrived as ${sum.bytes} bytes with SHA-256 ${sum.sha256.slice(0, 12)}…, not ${f.bytes} bytes, ${f.sha256.slice(0, 12)}…`);
      done += f.bytes;
      got.set(f.name, file);
    }
    progress(90, `all ${body.files.length} files arrived whole (sizes and SHA-256 checked); placing them`);
    // Another node's image is copied here first (cluster/image-copies.ts): a VM's kernel and initrd, a container's root.
    const image = body.machine.image ? await this.imageFiles(body.machine.image, body.machine.driver, (l) => progress(90, l)) : null;
    const placed = await driver.move.place(spec, got, body.meta, body.live, image);
    entry.made = placed.made;
    entry.spec = { ...spec, runtime: placed.runtime };
    entry.placed = true;
    let endpoint: MoveEndpoint | null = null;
    let runtime = placed.runtime;
    if (body.start) {
      if (!image) throw new ConflictError('a machine moved while it runs needs its image to start again');
      const started = await driver.start(entry.spec, image, { host: await this.d.host.info() }).catch((err: Error) => {
        throw new Error(`${err.message}${lastLines(driver.consoleLog(entry.spec))}`, { cause: err });
      });
      runtime = started.runtime;
      entry.spec = { ...spec, runtime };
      progress(100, `started here (${started.log.join('; ')})`);
    }
    if (body.live) {
      // A machine without an image (an ISO install) starts as it does everywhere, from blank boot files; one that boots its own kernel
      // (a disk image's) has no kernel or initrd beside it: its disk is what the firmware boots.
      const boot = image ?? blankBoot();
      for (const f of boot.ownKernel ? [boot.disk] : [boot.kernel, boot.initrd])
        if (f && !fs.existsSync(f)) throw new ConflictError(`image ${body.machine.image}'s boot files are not on node ${cluster.self.name} (${f})`);
      const listen = new URL(cluster.requireOnline(cluster.self.id).url).hostname.replace(/^\[|\]$/g, '');
      const r = await driver.move.live!.receive(entry.spec, boot, await this.d.host.info(), listen);
      runtime = r.runtime;
      endpoint = r.endpoint;
      entry.spec = { ...spec, runtime };
      progress(100, `qemu waits for the machine on ${listen}:${endpoint.migrate} (its disk exported on port ${endpoint.nbd})`);
    }
    fs.rmSync(work, { recursive: true, force: true });
    // A sender that goes away before settling or aborting: what was made here goes after a while.
    entry.timer = setTimeout(() => void this.orphaned(body.moveId, spec.id), ORPHAN_MS);
    entry.timer.unref();
    return { t: 'ready', runtime, endpoint };
  }

  /** The sender has sent it all: the machine runs here. */
  async settle(moveId: string): Promise<void> {
    const e = this.incoming.get(moveId);
    if (!e) throw new NotFoundError('Move');
    if (e.live) await e.driver.move!.live!.settle(e.spec);
    clearTimeout(e.timer);
    this.incoming.delete(moveId);
    // The sender names this node in the machine's row right after this answer: from then on the row keeps the image.
    this.imageHolds.release(moveId, 60_000);
  }

  /** The move failed: what this node made for it goes (a waiting process, the placed files). */
  async drop(moveId: string): Promise<void> {
    this.imageHolds.release(moveId);
    const e = this.incoming.get(moveId);
    if (!e) return;
    this.incoming.delete(moveId);
    clearTimeout(e.timer);
    // A process started for it (waiting for its state, or started again) stops; its dir, network lease and cgroups go.
    // Not before its files were placed: the record is still the sender's then, and names the sender's container.
    if (e.placed) await e.driver.destroy(e.spec).catch(() => undefined);
    fs.rmSync(e.spec.dir, { recursive: true, force: true });
    for (const f of e.made) fs.rmSync(f, { recursive: true, force: true });
    fs.rmSync(e.work, { recursive: true, force: true });
  }

  private async orphaned(moveId: string, machineId: string): Promise<void> {
    // Settled or taken over meanwhile (the row names this node): nothing to undo.
    const row = await this.d.machines.row(machineId).catch(() => null);
    if (row && this.d.cluster.isLocal(row.nodeId)) {
      this.imageHolds.release(moveId);
      return void this.incoming.delete(moveId);
    }
    await this.drop(moveId);
  }
}

async function sha256Of(file: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The last lines of a machine's console log, for an error that says to look there (the log goes with the failed move). */
function lastLines(file: string): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const buf = Buffer.alloc(Math.min(size, 2048));
      fs.readSync(fd, buf, 0, buf.length, size - buf.length);
      const lines = buf
        .toString('utf8')
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean)
        .slice(-3);
      return lines.length ? ` (its console: ${lines.join(' | ')})` : '';
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}
