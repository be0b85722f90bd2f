import type { ConsoleMode, ConsoleTarget } from '@/lib/contracts/console';
import { hasRole } from '@/lib/roles';
import { spawnPty } from '@/server/drivers/pty';
import type { Principal } from '../auth';
import { ConflictError, ForbiddenError, NotFoundError } from '../errors';
import type { SettingsService } from '../settings';
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

/** Console sessions by client-made id. Sessions outlive viewers; attach re-joins them. */
export class ConsoleRegistry {
  private readonly sessions = new Map<string, ConsoleSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly settings: SettingsService) {
    this.sweeper = setInterval(() => this.sweep(), 30_000);
    this.sweeper.unref();
  }

  attach(p: Principal, sink: ViewerSink, req: AttachParams): Attached {
    this.authorize(p, req.target);
    let session = this.sessions.get(req.sessionId);
    if (session) {
      if (JSON.stringify(session.target) !== JSON.stringify(req.target)) throw new ConflictError('This console session id belongs to another target.');
      if (session.ownerId !== p.user.id) throw new NotFoundError('Console session');
    } else {
      session = new ConsoleSession(req.sessionId, req.target, p.user.id, this.open(req), {
        scrollbackChars: this.settings.get().consoleScrollbackKib * 1024,
      });
      this.sessions.set(req.sessionId, session);
    }
    const mode: ConsoleMode = hasRole(p.role, 'operator') ? req.mode : 'readonly';
    return { session, mode, ...session.attach(sink, mode, req.since) };
  }

  get(sessionId: string): ConsoleSession | undefined {
    return this.sessions.get(sessionId);
  }

  /** Close a session and its source now, e.g. when its machine is destroyed. */
  close(sessionId: string, reason: string): void {
    this.sessions.get(sessionId)?.close(reason);
    this.sessions.delete(sessionId);
  }

  closeAll(reason: string): void {
    for (const id of [...this.sessions.keys()]) this.close(id, reason);
    clearInterval(this.sweeper);
  }

  sweep(now = Date.now()): void {
    for (const [id, s] of this.sessions) {
      if (s.viewerCount > 0) continue;
      const idle = now - s.lastViewerAt;
      if ((s.exited && idle > EXITED_MS) || idle > IDLE_MS) this.close(id, 'idle');
    }
  }

  private authorize(p: Principal, target: ConsoleTarget): void {
    switch (target.kind) {
      case 'host-shell':
        // Same answer for "not allowed" and "turned off" to non-admins: they need not know it exists.
        if (!hasRole(p.role, 'admin')) throw new NotFoundError('Console');
        if (!this.settings.get().consoleHostShell) throw new ForbiddenError('The host shell console is turned off. An admin can turn it on in Settings.');
        return;
      case 'machine':
        throw new NotFoundError('Machine');
    }
  }

  private open(req: AttachParams): ConsoleSource {
    switch (req.target.kind) {
      case 'host-shell':
        return spawnPty([process.env.SHELL || '/bin/bash', '-l'], { cols: req.cols, rows: req.rows, cwd: process.env.HOME || '/' });
      case 'machine':
        throw new NotFoundError('Machine');
    }
  }
}
