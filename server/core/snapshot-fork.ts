import fs from 'node:fs';
import type { Machine } from '@/lib/contracts/machines';
import type { ForkBody } from '@/lib/contracts/snapshots';
import type { Store } from '@/db/client';
import { getMachineRow, insertMachine, namesTaken } from '@/db/repo/machines';
import { specOf, type SnapshotRow } from '@/db/repo/snapshots';
import type { DriverRuntime } from '@/server/drivers/types';
import type { Principal } from './auth';
import { ConflictError } from './errors';
import type { EventBus } from './events';
import { newId } from './ids';
import { askFor, type Reservation } from './limits';
import type { JobContext } from './jobs';
import type { MachineService } from './machines';
import { resolveInside } from './paths';
import { PhaseTimer } from '@/lib/phases';
import type { HotPool, PreparedBoot } from './hot-pool';

/** CPUs and memory of forks when not the snapshot's. */
export type ForkSize = { cpus?: number; memoryMib?: number };

/** Machines made from a snapshot: its driver branches new writable layers on its frozen one. */
export class SnapshotForks {
  constructor(
    private readonly d: {
      store: Store;
      bus: EventBus;
      machines: MachineService;
      dirs: { machines: string; layers: string };
      now: () => number;
      hot?: () => HotPool | null;
    },
  ) {}

  /** `count` forks (or `names`) of a snapshot, each on a new layer of its own, started in parallel. */
  async fork(
    p: Principal,
    snap: SnapshotRow,
    body: ForkBody,
    ctx: JobContext,
    held?: Reservation,
    size?: ForkSize,
  ): Promise<{ machines: string[]; snapshot: string; runningMs: number | null; phases?: Record<string, number> }> {
    const timer = new PhaseTimer();
    const t0 = performance.now();
    const spec = { ...specOf(snap), ...size };
    // Independent reads side by side; the names in use are looked up by name, not by listing every machine.
    const sourceName = async () => (snap.machineId ? (await getMachineRow(this.d.store, { id: snap.machineId }))?.name : undefined);
    const [ownerId, prefix] = await Promise.all([
      this.d.machines.limits.chargeTo(p),
      body.names ? '' : body.namePrefix ? Promise.resolve(body.namePrefix) : sourceName().then((n) => `${(n ?? 'fork').slice(0, 50)}-fork`),
    ]);
    const taken = await namesTaken(this.d.store, { names: body.names ?? [], prefix: body.names ? undefined : `${prefix}-` });
    timer.mark('names');
    const names: string[] = body.names ? [...body.names] : [];
    const clash = names.find((n) => taken.has(n));
    if (clash) throw new ConflictError(`A machine named "${clash}" exists already.`);
    for (let i = 1; names.length < (body.count ?? 1); i++) if (!taken.has(`${prefix}-${i}`)) names.push(`${prefix}-${i}`);
    ctx.progress(20, `Starting ${names.length} fork${names.length === 1 ? '' : 's'} of "${snap.label}"`);
    // A hot snapshot's standbys first (their process waits already), then new layers for the rest.
    const pool = snap.kind === 'live' ? this.d.hot?.() : null;
    const standbys = names.map(() => pool?.take(snap, spec) ?? null);
    timer.mark('take_standby');
    if (standbys.some(Boolean)) ctx.log(`${standbys.filter(Boolean).length} of ${names.length} from the hot snapshot's standbys`);
    const ids = standbys.map((t) => t?.id ?? newId('mch'));
    const cold = ids.flatMap((id, i) => (standbys[i] ? [] : [{ id, dir: resolveInside(this.d.dirs.machines, id), name: names[i] }]));
    const branched = cold.length ? await this.branch(snap, cold, spec.diskGib, 'fork') : [];
    const runtimes = standbys.map((t) => t?.runtime ?? (branched.shift() as DriverRuntime));
    const prepared = standbys.map((t) => t?.prepared);
    timer.mark('branch');
    // Where one fork's time goes (several in parallel would mix their marks).
    const phases = names.length === 1 ? timer : undefined;
    let running = 0;
    let runningMs: number | null = null;
    // The pool refills once the forks run: a standby started meanwhile would compete with them for the CPU.
    const refill = () => void (standbys.some(Boolean) && pool?.kick());
    const onRunning = () => {
      if (++running !== names.length) return;
      runningMs = Math.round(performance.now() - t0);
      refill();
    };
    await Promise.all(
      names.map((name, i) =>
        this.forkOne(
          ownerId,
          snap,
          spec,
          { id: ids[i], name, runtime: runtimes[i], prepared: prepared[i] },
          !!body.newIdentity,
          ctx,
          { onRunning, phases },
          held,
        ),
      ),
    ).finally(() => runningMs === null && refill());
    const marks = phases?.record();
    if (marks)
      ctx.log(
        `phases (ms): ${Object.entries(marks)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}`,
      );
    if (runningMs !== null)
      ctx.log(`all ${names.length} guests running ${runningMs} ms after the fork began; fix-ups done after ${Math.round(performance.now() - t0)} ms`);
    return { machines: ids, snapshot: snap.id, runningMs, ...(marks ? { phases: marks } : {}) };
  }

  private async forkOne(
    ownerId: string,
    snap: SnapshotRow,
    spec: ReturnType<typeof specOf>,
    fork: { id: string; name: string; runtime: DriverRuntime; prepared?: PreparedBoot },
    newIdentity: boolean,
    ctx: JobContext,
    { onRunning, phases }: { onRunning: () => void; phases?: PhaseTimer },
    held?: Reservation,
  ): Promise<string> {
    const { id, name, runtime, prepared } = fork;
    const now = this.d.now();
    const m = await insertMachine(this.d.store, {
      id,
      name,
      driver: snap.driver as Machine['driver'],
      image: snap.image,
      // Its start follows at once: written `starting` now, once (see MachinePower.start).
      state: 'starting',
      stateReason: null,
      cpus: spec.cpus,
      memoryMib: spec.memoryMib,
      diskGib: spec.diskGib,
      ports: [],
      ownerId,
      createdAt: now,
      updatedAt: now,
      snapshotId: snap.id,
      runtime,
    });
    // Its row counts from now on: the reservation that stood for it goes.
    held?.settle(askFor(1, spec));
    this.d.bus.publish('machine:update', this.d.machines.views.view(m));
    fs.mkdirSync(resolveInside(this.d.dirs.machines, id), { recursive: true, mode: 0o700 });
    phases?.mark('insert_row');
    const from =
      snap.kind === 'live'
        ? { dir: snap.path, banner: `forked from snapshot "${snap.label}"`, fixups: { hostname: name, newIdentity }, onRunning, phases, prepared }
        : undefined;
    await this.d.machines.startMachine(id, ctx, 20, from, m);
    ctx.log(`${name} running (${from ? 'carried on from the snapshot' : 'booted from its disk'})`);
    return id;
  }

  /** New writable layers on the snapshot's frozen one, one per machine (the driver's kind of layer). */
  branch(snap: SnapshotRow, targets: { id: string; dir: string; name: string }[], diskGib: number, mode: 'restore' | 'fork'): Promise<DriverRuntime[]> {
    return this.d.machines.driver(snap.driver as Machine['driver']).branch(
      { frozen: snap.diskPath, dir: snap.path, record: JSON.parse(snap.specJson) },
      targets.map((t) => ({ ...t, layers: this.d.dirs.layers, diskGib })),
      mode,
    );
  }
}
