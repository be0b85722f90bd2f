import fs from 'node:fs';
import path from 'node:path';
import type { DriverDescription } from '@/lib/contracts/drivers';
import type { HostInfo } from '@/lib/contracts/host';
import type { DriverKind } from '@/lib/contracts/machines';
import type {
  BootFiles,
  BranchTarget,
  CheckpointResult,
  DriverRuntime,
  ExecResult,
  Fixups,
  HotStandbyOps,
  MachineDriver,
  MachineSpec,
  RunOnceIo,
  SnapshotSource,
  StartOptions,
} from '../types';
import { FakeConsole } from './console';
import { fakeDescription } from './describe';

export interface FakeCall {
  method: string;
  machine: string | null;
  args?: unknown;
}

type Scripted = 'create' | 'start' | 'stop' | 'checkpoint' | 'branch' | 'exec' | 'destroy' | 'fixup';

/**
 * A driver for unit tests: no process, no host tool. It records every call, keeps which
 * machines "run" in memory, writes small files where a real driver would write layers and
 * snapshot state (so garbage collection and checksums have something real to work on), and
 * plays scripted results: a failure for the next call of a method, an exec's answer, a pause.
 */
export class FakeDriver implements MachineDriver {
  readonly calls: FakeCall[] = [];
  readonly consoles = new Map<string, FakeConsole>();
  readonly snapshotFiles: { checked: string[]; bulk: string[] };
  readonly branchesBesideRunning: boolean;
  private readonly live = new Map<string, 'running' | 'paused'>();
  private readonly failures = new Map<Scripted, Error[]>();
  /** Layer file -> the layer below it. */
  private readonly parents = new Map<string, string>();
  private n = 0;
  /** The answer of exec (default: exit 0, argv echoed). */
  execAnswer: (argv: string[]) => ExecResult = (argv) => ({ code: 0, stdout: argv.join(' '), stderr: '', durationMs: 1 });
  /** Held by start() until released (a test can watch a machine while it starts). */
  startGate: Promise<void> | null = null;
  ready = true;
  /** Held by hotStandby.prepare() until released (a test can stop the pool while a standby starts). */
  standbyGate: Promise<void> | null = null;
  /** Standbys started ahead for hot snapshots, not yet taken by a fork or destroyed. */
  readonly standbys = new Set<string>();
  readonly hotStandby: HotStandbyOps = {
    prepare: async (snap, m) => {
      this.record('standby', m, { from: snap.dir });
      if (this.standbyGate) await this.standbyGate;
      const [runtime] = await this.branch(snap, [m], 'fork');
      this.standbys.add(m.id);
      return { ...runtime, pid: 4242, standby: true };
    },
    alive: (m) => this.standbys.has(m.id),
    residentBytes: (m) => (this.standbys.has(m.id) ? 2 ** 20 : 0),
  };

  constructor(
    readonly kind: DriverKind,
    private readonly over: Partial<DriverDescription> = {},
  ) {
    const vm = kind === 'qemu';
    this.snapshotFiles = { checked: vm ? ['state'] : [], bulk: [] };
    this.branchesBesideRunning = vm;
  }

  /** The next call of `method` throws `err`. */
  failNext(method: Scripted, err: Error): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), err]);
  }

  callsOf(method: string): FakeCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  isRunningId(id: string): boolean {
    return this.live.has(id);
  }

  private record(method: string, m: { id: string } | null, args?: unknown): void {
    this.calls.push({ method, machine: m?.id ?? null, ...(args === undefined ? {} : { args }) });
  }

  private scripted(method: Scripted): void {
    const err = this.failures.get(method)?.shift();
    if (err) throw err;
  }

  private layer(dir: string, id: string, below: string | null): string {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `${id}-fake${++this.n}.layer`);
    fs.writeFileSync(file, below ?? '');
    if (below) this.parents.set(file, below);
    return file;
  }

  describe(host: HostInfo | null): DriverDescription {
    return fakeDescription(this.kind, host, this.over);
  }

  facts(runtime: DriverRuntime) {
    return {
      accel: null,
      ssh: runtime.shell === false ? null : { port: null, user: 'root' },
      network: typeof runtime.network === 'string' && this.kind !== 'qemu' ? (runtime.network as 'private' | 'nat' | 'host') : null,
      address: null,
      command: Array.isArray(runtime.command) ? (runtime.command as string[]) : null,
    };
  }

  async create(m: MachineSpec, image: BootFiles) {
    this.record('create', m, { image: image.image, runtime: m.runtime });
    this.scripted('create');
    fs.mkdirSync(m.dir, { recursive: true });
    const disk = this.layer(m.layers, m.id, null);
    // A login shell where the image has sshd (as a VM's), like the real drivers' `ssh`.
    return { runtime: { ...m.runtime, disk, shell: image.ssh }, log: [`fake: created on image ${image.image}`] };
  }

  async start(m: MachineSpec, _image: BootFiles, opts: StartOptions) {
    const adopted = !!opts.from && this.standbys.delete(m.id);
    this.record('start', m, { from: opts.from?.dir ?? null, ...(adopted ? { standby: true } : {}) });
    if (this.startGate) await this.startGate;
    this.scripted('start');
    this.live.set(m.id, 'running');
    return { runtime: { ...m.runtime, pid: 4242, ...(adopted ? { standby: false } : {}) }, log: ['fake: started'] };
  }

  async stop(m: MachineSpec, opts: { force: boolean; timeoutMs: number }) {
    this.record('stop', m, opts);
    this.scripted('stop');
    this.live.delete(m.id);
    this.consoles.get(m.id)?.exit(0);
    return { clean: !opts.force, runtime: { ...m.runtime, pid: null } };
  }

  async pause(m: MachineSpec) {
    this.record('pause', m);
    this.live.set(m.id, 'paused');
  }

  async resume(m: MachineSpec) {
    this.record('resume', m);
    if (this.live.has(m.id)) this.live.set(m.id, 'running');
  }

  isRunning(m: MachineSpec) {
    return this.live.has(m.id);
  }

  isReady() {
    return this.ready;
  }

  async status(m: MachineSpec) {
    return this.live.get(m.id) ?? 'stopped';
  }

  openConsole(m: MachineSpec) {
    this.record('openConsole', m);
    const c = new FakeConsole();
    this.consoles.set(m.id, c);
    return c;
  }

  consoleLog(m: MachineSpec) {
    return path.join(m.dir, 'console.log');
  }

  openShell(m: MachineSpec) {
    this.record('openShell', m);
    return m.runtime.shell === false ? null : Promise.resolve(new FakeConsole());
  }

  async exec(m: MachineSpec, argv: string[]) {
    this.record('exec', m, argv);
    this.scripted('exec');
    return this.execAnswer(argv);
  }

  async destroy(m: MachineSpec) {
    this.record('destroy', m);
    this.scripted('destroy');
    this.live.delete(m.id);
    this.standbys.delete(m.id);
    fs.rmSync(m.dir, { recursive: true, force: true });
  }

  async checkpoint(m: MachineSpec, dir: string): Promise<CheckpointResult> {
    this.record('checkpoint', m);
    this.scripted('checkpoint');
    fs.mkdirSync(dir, { recursive: true });
    const frozen = typeof m.runtime.disk === 'string' ? m.runtime.disk : this.layer(m.layers, m.id, null);
    const live = this.live.has(m.id) && this.kind === 'qemu';
    if (live) fs.writeFileSync(path.join(dir, 'state'), `state of ${m.id}`);
    const disk = this.layer(m.layers, m.id, frozen);
    return { live, frozenDisk: frozen, runtime: { ...m.runtime, disk }, pauseMs: live ? 1 : null, sizeBytes: 4096 };
  }

  snapshotRecord(m: MachineSpec) {
    return { shell: m.runtime.shell !== false, network: m.runtime.network ?? null, command: m.runtime.command ?? null };
  }

  async branch(snap: SnapshotSource, targets: BranchTarget[], mode: 'restore' | 'fork') {
    this.record('branch', null, { frozen: snap.frozen, targets: targets.map((t) => t.id), mode });
    this.scripted('branch');
    return targets.map((t) => {
      fs.mkdirSync(t.dir, { recursive: true });
      return { disk: this.layer(t.layers, t.id, snap.frozen), ...(mode === 'fork' ? snap.record : {}) };
    });
  }

  discard(m: MachineSpec) {
    this.record('discard', m);
    if (typeof m.runtime.disk === 'string') fs.rmSync(m.runtime.disk, { force: true });
  }

  async runOnce(m: MachineSpec, io: RunOnceIo) {
    this.record('runOnce', m);
    const r = this.execAnswer((m.runtime.command as string[]) ?? []);
    io.onData('stdout', Buffer.from(r.stdout));
    if (r.stderr) io.onData('stderr', Buffer.from(r.stderr));
    return { code: r.code, timedOut: false };
  }

  layersOf(runtime: DriverRuntime) {
    return typeof runtime.disk === 'string' ? this.chainOf(runtime.disk) : [];
  }

  chainOf(frozen: string) {
    const chain: string[] = [];
    for (let f: string | undefined = frozen; f && !chain.includes(f); f = this.parents.get(f)) chain.push(f);
    return chain;
  }

  async repair(m: MachineSpec) {
    this.record('repair', m);
    return null;
  }

  async fixup(m: MachineSpec, f: Fixups) {
    this.record('fixup', m, f);
    this.scripted('fixup');
  }

  async stats(m: MachineSpec) {
    return this.live.has(m.id) ? { cpuNs: 1000 * ++this.n, memBytes: m.memoryMib * 2 ** 19 } : null;
  }

  unitFile(m: MachineSpec) {
    return `[Service]\nExecStart=/bin/true # ${m.name}\n`;
  }
}
