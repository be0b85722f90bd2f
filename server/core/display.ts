import type { Duplex } from 'node:stream';
import type { Machine } from '@/lib/contracts/machines';
import { hasRole } from '@/lib/roles';
import type { AuthService, Principal } from './auth';
import { ConflictError, machineNotFound } from './errors';
import type { GrantService } from './grants';
import type { MachineService } from './machines';

interface Viewer {
  userId: string;
  sessionId: string | null;
  shareId: string | null;
  close(reason: string): void;
}

/** A screenshot asked for while one is being taken is that one (QEMU answers one monitor client at a time). */
const FRESH_MS = 1000;

/**
 * Machines' screens (the Display tab): who may watch and who may type, the streams open now (closed
 * when their caller's session, link or role changes, as consoles are), and screenshots. The same
 * rules as the serial console: operators (role or grant) type; viewers and share links only watch,
 * which the transport enforces on the stream itself.
 */
export class DisplayService {
  private readonly viewers = new Set<Viewer>();
  private readonly shots = new Map<string, { at: number; png: Promise<Buffer> }>();

  constructor(
    private readonly machines: MachineService,
    private readonly grants: GrantService,
    auth: AuthService,
  ) {
    auth.onRevoke((r) => {
      for (const v of [...this.viewers]) {
        const hit = r.shareId ? v.shareId === r.shareId : !!r.userId && v.userId === r.userId && (!r.sessionId || v.sessionId === r.sessionId);
        if (!hit) continue;
        this.viewers.delete(v);
        v.close('Your access to this machine changed: open the display again.');
      }
    });
  }

  /** The machine and whether the caller only watches; the errors a console attach gives. */
  async access(p: Principal, ref: string): Promise<{ machine: Machine; readOnly: boolean }> {
    const m = await this.machines.get(p, ref).catch((err: unknown) => {
      if (p.share) throw machineNotFound(ref);
      throw err;
    });
    // A share link opens its own machine only, and only to watch.
    if (p.share) {
      // A recording link shows its recording, never the live screen.
      if (m.id !== p.share.machineId || p.share.recordingId) throw machineNotFound(ref);
      return { machine: this.reachable(m), readOnly: true };
    }
    const access = await this.grants.accessTo(p, m.id);
    if (!hasRole(p.role, 'viewer') && !access.granted) throw machineNotFound(ref);
    return { machine: this.reachable(m), readOnly: !hasRole(access.role, 'operator') };
  }

  private reachable(m: Machine): Machine {
    if (!m.capabilities.display.available) throw new ConflictError(`${m.name} has no screen: ${m.capabilities.display.reason ?? 'its driver draws none.'}`);
    if (m.state !== 'running' && m.state !== 'paused') throw new ConflictError(`${m.name} is ${m.state}: start it to see its screen.`);
    return m;
  }

  /** The raw RFB stream of the machine's display server, registered so that a revocation closes it. */
  async open(p: Principal, ref: string, close: (reason: string) => void): Promise<{ machine: Machine; readOnly: boolean; stream: Duplex; done: () => void }> {
    const { machine, readOnly } = await this.access(p, ref);
    const display = this.machines.driver(machine.driver).display;
    if (!display) throw new ConflictError(`${machine.name} has no screen.`);
    const { spec } = await this.machines.spec(machine.id);
    const stream = await display.connect(spec).catch((err: Error) => {
      throw new ConflictError(`${machine.name}'s display does not answer: ${err.message}`);
    });
    const v: Viewer = { userId: p.user.id, sessionId: p.sessionId ?? null, shareId: p.share?.id ?? null, close };
    this.viewers.add(v);
    return { machine, readOnly, stream, done: () => this.viewers.delete(v) };
  }

  get openViewers(): number {
    return this.viewers.size;
  }

  /** A PNG of the screen now (or of a moment ago: callers within a second share one screenshot). */
  async screenshot(m: Machine): Promise<Buffer> {
    const machineId = m.id;
    this.reachable(m);
    const cached = this.shots.get(machineId);
    if (cached && Date.now() - cached.at < FRESH_MS) return cached.png;
    const display = this.machines.driver(m.driver).display;
    if (!display) throw new ConflictError(`${m.name} has no screen.`);
    const png = this.machines.spec(m.id).then(({ spec }) =>
      display.screenshot(spec).catch((err: Error) => {
        throw new ConflictError(`${m.name}'s screen could not be read: ${err.message}`);
      }),
    );
    this.shots.set(machineId, { at: Date.now(), png });
    png.catch(() => this.shots.delete(machineId));
    // Old entries go; a map of every machine ever shown would only grow.
    for (const [id, s] of this.shots) if (Date.now() - s.at > 10 * FRESH_MS) this.shots.delete(id);
    return png;
  }
}
