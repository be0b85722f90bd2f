import type { ConsoleMode, ConsoleTarget } from '@/lib/contracts/console';
import { hasRole, type Role } from '@/lib/roles';
import { spawnPty } from '@/server/drivers/pty';
import { driverFor } from '@/server/drivers/registry';
import type { Principal } from '../auth';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import type { MachineService } from '../machines';
import type { SettingsService } from '../settings';
import type { RecordingService } from './recordings';
import { ConsoleSession, type ViewerSink } from './session';
import type { ConsoleSource } from './source';

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

/**
 * Console sessions. A host shell is one session per client-made id (each tab its own shell);
 * a machine's serial console is one session per machine, shared by every viewer.
 */
export class ConsoleRegistry {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly sweeper: NodeJS.Timeout;
  /** Set once machines exist (the two services refer to each other). */
  machines: MachineService | null = null;
  /** A caller's role on a machine (its global role, or a grant there). */
  roleOn: (p: Principal, machineId: string) => Promise<Role> = async (p) => p.role;
  /** Where recorded sessions go (set with the machines). */
  recordings: RecordingService | null = null;
  /** Whether a member was given this machine. */
  canSee: (p: Principal, machineId: string) => Promise<boolean> = async () => false;

  constructor(private readonly settings: SettingsService) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  /** A serial console is one per machine, shared; an SSH shell, like a host shell, is one per client-made id. */
  private keyOf(req: AttachParams): string {
    if (req.target.kind === 'host-shell') return `shell:${req.sessionId}`;
    return req.target.channel === 'serial' ? `machine:${req.target.machineId}:serial` : `machine:${req.target.machineId}:ssh:${req.sessionId}`;
  }

  private personal(target: ConsoleTarget): boolean {
    return target.kind === 'host-shell' || target.channel === 'ssh';
  }

  async attach(p: Principal, sink: ViewerSink, req: AttachParams): Promise<Attached> {
    await this.authorize(p, req.target);
    const key = this.keyOf(req);
    let session = this.sessions.get(key);
    if (session && this.personal(req.target) && session.ownerId !== p.user.id) throw new NotFoundError('Console session');
    if (session?.exited && req.target.kind === 'machine' && req.target.channel === 'serial') {
      // The machine was restarted since: start reading its new console.
      this.close(key, 'restarted');
      session = undefined;
    }
    if (!session) {
      session = new ConsoleSession(key, req.target, p.user.id, await this.open(req), { scrollbackChars: this.settings.get().consoleScrollbackKib * 1024 });
      this.sessions.set(key, session);
      await this.maybeRecord(session, req);
    }
    const role = req.target.kind === 'machine' ? await this.roleOn(p, req.target.machineId) : p.role;
    const mode: ConsoleMode = hasRole(role, 'operator') ? req.mode : 'readonly';
    return { session, mode, ...session.attach(sink, mode, req.since, { name: p.user.username, via: p.via }) };
  }

  /** A machine that records its consoles: this session's output goes to an asciicast file from now on. */
  private async maybeRecord(session: ConsoleSession, req: AttachParams): Promise<void> {
    if (req.target.kind !== 'machine' || !this.recordings || !this.machines) return;
    const { row } = await this.machines.spec(req.target.machineId);
    if (!row.recordConsole) return;
    try {
      session.record(this.recordings.start(row.id, req.target.channel, `${row.name} (${req.target.channel})`, req.cols, req.rows));
    } catch {
      // No room for the file (disk, permissions): the console works, unrecorded.
    }
  }

  /** Close a session and its source now. */
  close(key: string, reason: string): void {
    this.sessions.get(key)?.close(reason);
    this.sessions.delete(key);
  }

  closeMachine(machineId: string, reason: string): void {
    for (const key of [...this.sessions.keys()]) if (key.startsWith(`machine:${machineId}:`)) this.close(key, reason);
  }

  closeAll(reason: string): void {
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

  private async authorize(p: Principal, target: ConsoleTarget): Promise<void> {
    // A share link opens the serial console of its own machine; anything else does not exist for it.
    if (p.share && (target.kind !== 'machine' || target.machineId !== p.share.machineId || target.channel !== 'serial')) throw new NotFoundError('Console');
    switch (target.kind) {
      case 'host-shell':
        // Same answer for "not allowed" and "turned off" to non-admins: they need not know it exists.
        if (!hasRole(p.role, 'admin')) throw new NotFoundError('Console');
        if (!this.settings.get().consoleHostShell) throw new ForbiddenError('The host shell console is turned off. An admin can turn it on in Settings.');
        return;
      case 'machine': {
        if (!this.machines) throw new NotFoundError('Machine');
        const m = await this.machines.get(p, target.machineId);
        // A member sees only machines given to them: any other is "not found", like a missing one.
        if (!hasRole(p.role, 'viewer') && !p.share && !(await this.canSee(p, m.id))) throw new NotFoundError('Machine');
        if (target.channel === 'ssh') {
          if (!m.ssh) throw new ConflictError(`${m.name}'s image (${m.image}) has no SSH server: use its serial console.`);
          if (m.state !== 'running') throw new ConflictError(`${m.name} is ${m.state}: SSH needs a running machine.`);
          if (!hasRole(await this.roleOn(p, target.machineId), 'operator'))
            throw new ForbiddenError('An SSH shell needs the operator role (or grant); viewers can watch the serial console.');
          return;
        }
        if (m.state !== 'running' && m.state !== 'paused' && m.state !== 'starting')
          throw new ConflictError(`${m.name} is ${m.state}: start it to use its console.`);
        return;
      }
    }
  }

  private async open(req: AttachParams): Promise<ConsoleSource> {
    switch (req.target.kind) {
      case 'host-shell':
        return spawnPty([process.env.SHELL || '/bin/bash', '-l'], { cols: req.cols, rows: req.rows, cwd: process.env.HOME || '/' });
      case 'machine': {
        const { row, spec } = await this.machines!.spec(req.target.machineId);
        const driver = driverFor(row.driver);
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
