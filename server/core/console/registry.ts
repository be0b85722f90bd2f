import type { ConsoleMode, ConsoleTarget } from '@/lib/contracts/console';
import type { Machine } from '@/lib/contracts/machines';
import { hasRole, type Role } from '@/lib/roles';
import type { MachineRow } from '@/db/repo/machines';
import type { ConsoleSource, DriverRegistry, MachineDriver, MachineSpec } from '@/server/drivers/types';
import type { Principal } from '../auth';
import { ConflictError, ForbiddenError, machineNotFound, NotFoundError } from '../errors';
import type { SettingsService } from '../settings';
import type { RecordingService } from './recordings';
import { ConsoleSession, type ViewerSink } from './session';

/** What consoles need of the machine service: the row, read once per attach, and how to see it. */
export interface ConsoleMachines {
  row(id: string): Promise<MachineRow>;
  views: { view(row: MachineRow): Machine };
  toSpec(row: MachineRow): MachineSpec;
  driver(kind: Machine['driver']): MachineDriver;
}

/** A caller's standing on one machine: its role there (global role or grant) and whether it was given the machine. */
export interface MachineAccess {
  role: Role;
  granted: boolean;
}

export interface AttachParams {
  sessionId: string;
  target: ConsoleTarget;
  mode: ConsoleMode;
  cols: number;
  rows: number;
  since?: number;
}

export interface Attached {
  session: ConsoleSession;
  mode: ConsoleMode;
  replay: string;
  offset: number;
  truncated: boolean;
}

/** How long a session with no viewers lives on (a closed tab can come back), and after exit. */
const IDLE_MS = 30 * 60_000;
const EXITED_MS = 60_000;
/** How long a stopped machine's console waits for its exit code before it closes (log consoles poll every 250 ms, then wait up to 5 s for the code). */
const EXIT_GRACE_MS = 8_000;
/** Restores one after another with no console opened between: the last few are kept. */
const MAX_CARRIED = 8;

/** The key of a machine's serial console session: one per machine, shared by its viewers. */
const serialKey = (machineId: string) => `machine:${machineId}:serial`;

/** A machine's serial console refused because the machine is not running (told when it runs: whenRunning). */
export class MachineNotRunningError extends ConflictError {
  constructor(
    readonly machineId: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Console sessions. A host shell is one session per client-made id (each tab its own shell);
 * a machine's serial console is one session per machine, shared by every viewer.
 */
export class ConsoleRegistry {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly sweeper: NodeJS.Timeout;
  /** Set once machines exist (the two services refer to each other). */
  machines: ConsoleMachines | null = null;
  /** A caller's role on a machine that exists (its global role, or a grant there), read once per attach. */
  accessTo: (p: Principal, machineId: string) => Promise<MachineAccess> = async (p) => ({ role: p.role, granted: false });
  /** Where recorded sessions go (set with the machines). */
  recordings: RecordingService | null = null;
  /** Markers for a machine's next serial session (see markMachine). */
  private readonly carried = new Map<string, string[]>();
  /** Viewers refused a machine's serial console while it was not running, to be told when it runs (whenRunning). */
  private readonly waiting = new Map<string, Set<() => void>>();

  constructor(
    private readonly settings: SettingsService,
    private readonly drivers: Pick<DriverRegistry, 'hostShell'>,
  ) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  /** A serial console is one per machine, shared; an SSH shell, like a host shell, is one per client-made id. */
  private keyOf(req: AttachParams): string {
    if (req.target.kind === 'host-shell') return `shell:${req.sessionId}`;
    return req.target.channel === 'serial' ? serialKey(req.target.machineId) : `machine:${req.target.machineId}:ssh:${req.sessionId}`;
  }

  private personal(target: ConsoleTarget): boolean {
    return target.kind === 'host-shell' || target.channel === 'ssh';
  }

  async attach(p: Principal, sink: ViewerSink, req: AttachParams): Promise<Attached> {
    // A machine's row is read once here, and its caller's access once: everything below uses them.
    const on = await this.authorize(p, req.target);
    const key = this.keyOf(req);
    let session = this.sessions.get(key);
    if (session && this.personal(req.target) && session.ownerId !== p.user.id) throw new NotFoundError('Console session');
    if (session?.exited && req.target.kind === 'machine' && req.target.channel === 'serial') {
      // The machine was restarted since: start reading its new console.
      this.close(key, 'restarted');
      session = undefined;
    }
    if (!session) {
      session = new ConsoleSession(key, req.target, p.user.id, await this.open(req, on?.row), {
        scrollbackChars: this.settings.get().consoleScrollbackKib * 1024,
      });
      this.sessions.set(key, session);
      if (on) this.maybeRecord(session, req, on.row);
    }
    const role = on ? on.access.role : p.role;
    const mode: ConsoleMode = hasRole(role, 'operator') ? req.mode : 'readonly';
    return { session, mode, ...session.attach(sink, mode, req.since, { name: p.user.username, via: p.via }) };
  }

  /** A machine that records its consoles: this session's output goes to an asciicast file from now on. */
  private maybeRecord(session: ConsoleSession, req: AttachParams, row: MachineRow): void {
    if (req.target.kind !== 'machine') return;
    // The first serial session after a restore takes its marker, recorded or not (a later one did not start there).
    const carried = req.target.channel === 'serial' ? (this.carried.get(row.id) ?? []) : [];
    if (req.target.channel === 'serial') this.carried.delete(row.id);
    if (!this.recordings || !row.recordConsole) return;
    try {
      session.record(this.recordings.start(row.id, req.target.channel, `${row.name} (${req.target.channel})`, req.cols, req.rows));
      for (const label of carried) session.mark(label);
    } catch {
      // No room for the file (disk, permissions): the console works, unrecorded.
    }
  }

  /**
   * A marker in every recorded console session open on this machine (serial and SSH alike).
   *
   * `carry`: also the first marker of the machine's next serial console session. A restore
   * replaces the machine's process, so the console session being recorded ends with it (its file
   * ends with this marker) and the restored machine's console is a new session, a new recording.
   * Rather than keep one session (and one file) alive across a process that is gone, the new
   * recording starts with the same marker: each file says where its state came from, and the
   * machine's list of recordings reads as one timeline across restores. Held in memory until
   * that session opens (a server restart loses it; the old file still has it). SSH shells are
   * a person's own and open later, so they do not take it.
   */
  markMachine(machineId: string, label: string, opts: { carry?: boolean } = {}): void {
    for (const [key, s] of this.sessions) if (key.startsWith(`machine:${machineId}:`)) s.mark(label);
    if (opts.carry) this.carried.set(machineId, [...(this.carried.get(machineId) ?? []), label].slice(-MAX_CARRIED));
  }

  /** A machine that was removed: nothing waits for its next session. */
  forgetMachine(machineId: string): void {
    this.carried.delete(machineId);
    this.waiting.delete(machineId);
  }

  /**
   * `fn` once, when this machine runs again (a start, the end of a restore), unless the returned
   * function is called first. A viewer refused the serial console of a machine between processes
   * attaches again at that moment instead of at its next try.
   */
  whenRunning(machineId: string, fn: () => void): () => void {
    let set = this.waiting.get(machineId);
    if (!set) this.waiting.set(machineId, (set = new Set()));
    const waiters = set;
    waiters.add(fn);
    return () => {
      waiters.delete(fn);
      if (waiters.size === 0 && this.waiting.get(machineId) === waiters) this.waiting.delete(machineId);
    };
  }

  /** Close a session and its source now. */
  close(key: string, reason: string): void {
    this.sessions.get(key)?.close(reason);
    this.sessions.delete(key);
  }

  /** A machine that stopped: its consoles first pass on how it ended (the exit code comes a moment after the process is gone). */
  closeMachine(machineId: string, reason: string): void {
    for (const [key, s] of [...this.sessions]) {
      if (!key.startsWith(`machine:${machineId}:`)) continue;
      this.sessions.delete(key);
      s.closeAfterExit(reason, EXIT_GRACE_MS);
    }
  }

  /**
   * A machine running (again). A view that re-attached while its machine was between processes (a
   * restore under way, say) opened a session on no process, which ended at once: it would say
   * "exited" until reloaded. That ended serial session is closed now, so its viewers attach again
   * (the client does on `closed`) and get the new process's console.
   */
  machineRunning(machineId: string): void {
    const key = serialKey(machineId);
    if (this.sessions.get(key)?.exited) this.close(key, 'The machine is running again.');
    const waiters = this.waiting.get(machineId);
    this.waiting.delete(machineId);
    for (const fn of waiters ?? []) fn();
  }

  closeAll(reason: string): void {
    this.waiting.clear();
    for (const key of [...this.sessions.keys()]) this.close(key, reason);
    clearInterval(this.sweeper);
  }

  sweep(now = Date.now()): void {
    this.recordings?.prune(this.settings.get().recordingRetentionDays, now);
    for (const [key, s] of this.sessions) {
      if (s.viewerCount > 0) continue;
      const idle = now - s.lastViewerAt;
      if ((s.exited && idle > EXITED_MS) || idle > IDLE_MS) this.close(key, 'idle');
    }
  }

  /** Who may open what; for a machine, its row and the caller's access there. */
  private async authorize(p: Principal, target: ConsoleTarget): Promise<{ row: MachineRow; access: MachineAccess } | null> {
    // A share link opens its own machine's serial console, and (an operator link) its shell; anything else does not exist for it.
    // A recording link opens no console at all (its recording is played over HTTP).
    if (
      p.share &&
      (p.share.recordingId ||
        target.kind !== 'machine' ||
        target.machineId !== p.share.machineId ||
        (target.channel !== 'serial' && !hasRole(p.role, 'operator')))
    )
      throw new NotFoundError('Console');
    switch (target.kind) {
      case 'host-shell':
        // Same answer for "not allowed" and "turned off" to non-admins: they need not know it exists.
        if (!hasRole(p.role, 'admin')) throw new NotFoundError('Console');
        if (!this.settings.get().consoleHostShell) throw new ForbiddenError('The host shell console is turned off. An admin can turn it on in Settings.');
        return null;
      case 'machine': {
        if (!this.machines) throw machineNotFound(target.machineId);
        const row = await this.machines.row(target.machineId);
        const m = this.machines.views.view(row);
        const access = await this.accessTo(p, m.id);
        // A member sees only machines given to them: any other is "not found", like a missing one.
        if (!hasRole(p.role, 'viewer') && !p.share && !access.granted) throw machineNotFound(target.machineId);
        if (target.channel === 'ssh') {
          if (!m.ssh || !m.capabilities.consoles.shell) throw new ConflictError(`${m.name}'s image (${m.image}) has no SSH server: use its serial console.`);
          if (m.state !== 'running') throw new ConflictError(`${m.name} is ${m.state}: SSH needs a running machine.`);
          if (!hasRole(access.role, 'operator'))
            throw new ForbiddenError('An SSH shell needs the operator role (or grant); viewers can watch the serial console.');
          return { row, access };
        }
        if (m.state !== 'running' && m.state !== 'paused' && m.state !== 'starting')
          throw new MachineNotRunningError(m.id, `${m.name} is ${m.state}: start it to use its console.`);
        return { row, access };
      }
    }
  }

  private async open(req: AttachParams, row: MachineRow | undefined): Promise<ConsoleSource> {
    switch (req.target.kind) {
      case 'host-shell':
        return this.drivers.hostShell({ cols: req.cols, rows: req.rows });
      case 'machine': {
        const spec = this.machines!.toSpec(row!);
        const driver = this.machines!.driver(row!.driver);
        if (req.target.channel === 'serial') return driver.openConsole(spec);
        const shell = driver.openShell(spec, req.cols, req.rows);
        if (!shell) throw new ConflictError('This machine has no SSH server.');
        return shell.catch((err: Error) => {
          throw new ConflictError(`SSH: ${err.message}`);
        });
      }
    }
  }
}
