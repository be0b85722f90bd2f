import fs from 'node:fs';
import path from 'node:path';
import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import type { DriverKind } from '@/lib/contracts/machines';
import type { HotPool as HotPoolView } from '@/lib/contracts/snapshots';
import type { Store } from '@/db/client';
import { listForkLinks } from '@/db/repo/fork-links';
import { getMachineRow } from '@/db/repo/machines';
import { isOwnRow } from '@/db/repo/own';
import { listSnapshotRows, specOf, type SnapshotRow } from '@/db/repo/snapshots';
import type { BootFiles, DriverRuntime, MachineDriver, MachineSpec } from '@/server/drivers/types';
import { newId } from './ids';
import { resolveInside } from './paths';

/** What the pool needs of the rest of the server. */
export interface HotPoolDeps {
  store: Store;
  driver(kind: DriverKind): MachineDriver;
  describe(kind: DriverKind): DriverDescription;
  boot(image: string): Promise<BootFiles>;
  host(): Promise<HostInfo>;
  /** Standbys per hot snapshot (the setting; 0: none). */
  size(): number;
  /** Throws when the host's memory limit leaves no room for `mib` more. */
  roomFor(mib: number): Promise<void>;
  dirs: { root: string; machines: string; layers: string };
  now: () => number;
  /** A snapshot's pool changed (a standby ready, taken or ended): the pages refresh it. */
  changed?: (snapshotId: string) => void;
}

type Standby = { id: string; snapshotId: string; kind: DriverKind; spec: MachineSpec; ready: boolean; prepared?: PreparedBoot };

/** The boot files and host facts a standby was started with: its fork's start needs no new look-up. */
export type PreparedBoot = { image: BootFiles; host: HostInfo };

/** Refills run at most this often on their own (changes kick one at once). */
const TICK_MS = 5000;

/**
 * Hot snapshots: for each (marked hot, or the snapshot of a fork link still open) K processes
 * started ahead by its driver, each a fork waiting for the state, so a fork from it only loads
 * the device state. Each standby is a machine dir of its own (the id its fork will have) and a
 * manifest under standby/ (a restart ends the ones a crash left). One preparation at a time.
 */
export class HotPool {
  private readonly standbys: Standby[] = [];
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private lastError: string | null = null;

  constructor(private readonly d: HotPoolDeps) {}

  private get manifests(): string {
    return path.join(this.d.dirs.root, 'standby');
  }

  /** Start-up: standbys a previous run left are ended (not known to this one), then the pool fills. */
  async start(timer = true): Promise<void> {
    fs.mkdirSync(this.manifests, { recursive: true, mode: 0o700 });
    for (const e of fs.readdirSync(this.manifests)) {
      const file = path.join(this.manifests, e);
      try {
        const { kind, spec } = JSON.parse(fs.readFileSync(file, 'utf8')) as { kind: DriverKind; spec: MachineSpec };
        // A fork took it just before the stop: it is that machine's now.
        if (!(await getMachineRow(this.d.store, { id: spec.id }))) await this.d.driver(kind).destroy(spec);
      } catch {
        // unreadable: nothing to end
      }
      fs.rmSync(file, { force: true });
    }
    if (timer) this.timer = setInterval(() => this.kick(), TICK_MS);
    this.kick();
  }

  /**
   * Shutdown: every standby ends. The ready ones end at once, without waiting for one still
   * starting (seconds under TCG): the server's stop is cut short after a few seconds, and a
   * standby left running then outlives its data dir.
   */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    const ready = this.standbys.filter((s) => s.ready);
    for (const s of ready) this.standbys.splice(this.standbys.indexOf(s), 1);
    await Promise.all([...ready.map((s) => this.end(s)), this.running]);
    await Promise.all(this.standbys.splice(0).map((s) => this.end(s)));
  }

  /** Bring the pool to what the settings and the hot snapshots ask for, in the background. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.fill().catch((err: Error) => void (this.lastError = err.message));
      } while (this.again && !this.closed);
      this.running = null;
    })();
    return this.running;
  }

  /**
   * A ready standby for a fork of `snap` with this shape, taken out of the pool; null: fork cold.
   * The caller kicks the refill once its forks run (one started now would compete with them).
   */
  take(snap: SnapshotRow, shape: { cpus: number; memoryMib: number }): { id: string; runtime: DriverRuntime; prepared?: PreparedBoot } | null {
    const at = this.standbys.findIndex(
      (s) =>
        s.snapshotId === snap.id &&
        s.ready &&
        s.spec.cpus === shape.cpus &&
        s.spec.memoryMib === shape.memoryMib &&
        this.d.driver(s.kind).hotStandby?.alive(s.spec),
    );
    if (at < 0) return null;
    const [s] = this.standbys.splice(at, 1);
    fs.rmSync(this.manifestOf(s.id), { force: true });
    this.d.changed?.(snap.id);
    return { id: s.id, runtime: s.spec.runtime, prepared: s.prepared };
  }

  /** Before a snapshot goes: its standbys end (they hold its files open). */
  async drop(snapshotId: string): Promise<void> {
    const doomed = this.standbys.filter((s) => s.snapshotId === snapshotId);
    for (const s of doomed) this.standbys.splice(this.standbys.indexOf(s), 1);
    await Promise.all(doomed.map((s) => this.end(s)));
  }

  /** Disk layers the standbys stand on (garbage collection keeps them). */
  layers(): string[] {
    return this.standbys.flatMap((s) => this.d.driver(s.kind).layersOf(s.spec.runtime));
  }

  /** Memory the standbys take from the host's limit, as machines of their size would. */
  reservedMib(): number {
    return this.standbys.reduce((a, s) => a + s.spec.memoryMib, 0);
  }

  /** The pool of one snapshot as the API shows it; null when the snapshot is not hot. */
  view(snap: SnapshotRow, linked: boolean): HotPoolView | null {
    if (!snap.hot && !linked) return null;
    const mine = this.standbys.filter((s) => s.snapshotId === snap.id);
    const desc = this.d.describe(snap.driver as DriverKind).hotStandby;
    return {
      target: desc.available && snap.kind === 'live' ? this.d.size() : 0,
      ready: mine.filter((s) => s.ready).length,
      starting: mine.filter((s) => !s.ready).length,
      standbys: mine.filter((s) => s.ready).map((s) => ({ id: s.id, pid: typeof s.spec.runtime.pid === 'number' ? s.spec.runtime.pid : null })),
      residentBytes: mine.reduce((a, s) => a + (this.d.driver(s.kind).hotStandby?.residentBytes(s.spec) ?? 0), 0),
      reservedMib: mine.reduce((a, s) => a + s.spec.memoryMib, 0),
      byForkLink: linked,
      reason: !desc.available ? desc.reason : snap.kind !== 'live' ? 'A disk-only snapshot has no memory to start ahead from.' : null,
      lastError: this.lastError,
    };
  }

  /** Snapshots fork links still hand out forks of. */
  async linked(): Promise<Set<string>> {
    const now = this.d.now();
    return new Set((await listForkLinks(this.d.store)).filter((l) => !l.revokedAt && l.expiresAt > now && l.used < l.maxForks).map((l) => l.snapshotId));
  }

  private async fill(): Promise<void> {
    const size = this.d.size();
    const linked = await this.linked();
    const wanted = new Map<string, SnapshotRow>();
    for (const r of await listSnapshotRows(this.d.store)) {
      const kind = r.driver as DriverKind;
      // Standbys are this node's processes: only for the snapshots it holds.
      if (!isOwnRow(this.d.store, r.nodeId)) continue;
      if ((r.hot || linked.has(r.id)) && r.state === 'complete' && r.kind === 'live' && this.d.describe(kind).hotStandby.available) wanted.set(r.id, r);
    }
    // Gone, no longer hot, past K, or their process ended: they go.
    const doomed: Standby[] = [];
    for (const s of this.standbys) {
      const mine = this.standbys.filter((o) => o.snapshotId === s.snapshotId);
      const dead = s.ready && !this.d.driver(s.kind).hotStandby?.alive(s.spec);
      if (this.closed || !wanted.has(s.snapshotId) || mine.indexOf(s) >= size || dead) doomed.push(s);
    }
    for (const s of doomed) this.standbys.splice(this.standbys.indexOf(s), 1);
    await Promise.all(doomed.map((s) => this.end(s)));
    for (const snap of wanted.values()) {
      while (!this.closed && this.standbys.filter((s) => s.snapshotId === snap.id).length < size) {
        if (!(await this.prepareOne(snap))) break;
      }
    }
  }

  private async prepareOne(snap: SnapshotRow): Promise<boolean> {
    const kind = snap.driver as DriverKind;
    const ops = this.d.driver(kind).hotStandby;
    if (!ops) return false;
    const shape = specOf(snap);
    try {
      await this.d.roomFor(shape.memoryMib);
    } catch (err) {
      this.lastError = (err as Error).message;
      return false;
    }
    const id = newId('mch');
    const spec: MachineSpec = {
      id,
      name: `standby-${id.slice(-8)}`,
      dir: resolveInside(this.d.dirs.machines, id),
      layers: this.d.dirs.layers,
      ...shape,
      ports: [],
      runtime: {},
    };
    const s: Standby = { id, snapshotId: snap.id, kind, spec, ready: false };
    this.standbys.push(s);
    try {
      const [image, host] = await Promise.all([this.d.boot(snap.image), this.d.host()]);
      fs.writeFileSync(this.manifestOf(id), JSON.stringify({ kind, spec }), { mode: 0o600 });
      s.spec = { ...spec, runtime: await ops.prepare({ frozen: snap.diskPath, dir: snap.path, record: JSON.parse(snap.specJson) }, spec, image, host) };
      s.prepared = { image, host };
      fs.writeFileSync(this.manifestOf(id), JSON.stringify({ kind, spec: s.spec }), { mode: 0o600 });
      s.ready = true;
      this.lastError = null;
      this.d.changed?.(snap.id);
    } catch (err) {
      this.lastError = `a standby of "${snap.label}" did not start: ${(err as Error).message}`;
      if (this.standbys.includes(s)) this.standbys.splice(this.standbys.indexOf(s), 1);
      await this.end(s);
      return false;
    }
    // Dropped (or the server stopping) while it started.
    if (!this.standbys.includes(s) || this.closed) {
      if (this.standbys.includes(s)) this.standbys.splice(this.standbys.indexOf(s), 1);
      await this.end(s);
    }
    return true;
  }

  private async end(s: Standby): Promise<void> {
    await this.d
      .driver(s.kind)
      .destroy(s.spec)
      .catch(() => undefined);
    this.d.driver(s.kind).discard?.(s.spec);
    fs.rmSync(this.manifestOf(s.id), { force: true });
    this.d.changed?.(s.snapshotId);
  }

  private manifestOf(id: string): string {
    return path.join(this.manifests, `${id}.json`);
  }
}
