import type { Duplex } from 'node:stream';
import type { Store } from '@/db/client';
import { keysOfOperators } from '@/db/repo/ssh-keys';
import type { Machine } from '@/lib/contracts/machines';
import type { SshHost, SshHostKeys } from '@/lib/contracts/ssh-keys';
import { hasRole } from '@/lib/roles';
import type { AuthService, Principal } from '../auth';
import { ConflictError, ForbiddenError, machineNotFound } from '../errors';
import type { EventBus } from '../events';
import type { GrantService } from '../grants';
import type { MachineService } from '../machines';

type Credentials = Parameters<AuthService['authenticate']>[0];

interface Tunnel {
  userId: string;
  machineId: string;
  creds: Credentials;
  close(reason: string): void;
}

/**
 * OpenSSH through Hangar: who may reach a machine's sshd (as for the SSH tab: the operator role or
 * grant, a running machine whose driver says it has sshd), the tunnels open now (closed when their
 * caller loses access), and the users' keys in each running guest, kept current as keys, grants,
 * roles and machines change.
 */
export class SshAccessService {
  private readonly tunnels = new Set<Tunnel>();
  private readonly syncing = new Map<string, { again: boolean; done: Promise<void> }>();
  private readonly lastState = new Map<string, Machine['state']>();
  private syncAllTimer: NodeJS.Timeout | null = null;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly store: Store,
    private readonly machines: MachineService,
    private readonly grants: GrantService,
    private readonly auth: AuthService,
    bus: EventBus,
  ) {
    // A machine that comes up (created, started, restored, forked) gets the keys of today, not those of its snapshot.
    this.unsubscribe.push(
      bus.subscribe('machine:update', (m) => {
        const before = this.lastState.get(m.id);
        this.lastState.set(m.id, m.state);
        if (m.state === 'running' && before !== 'running' && m.capabilities.sshd.available && this.machines.driver(m.driver).sshd) this.syncMachine(m.id);
      }),
      bus.subscribe('machine:removed', ({ id }) => this.lastState.delete(id)),
      // A grant given or taken, a role changed, a user disabled: keys and tunnels follow.
      auth.onRevoke((r) => {
        if (r.shareId) return;
        // One session ending (a logout) changes nobody's keys; a grant, a role or a disabled user may.
        if (!r.sessionId) this.syncAll();
        void this.recheckTunnels(r.userId ?? null);
      }),
    );
  }

  /** May `p` reach this machine's sshd? Its row and view, or the same errors as the SSH tab gives. */
  async reachable(p: Principal, ref: string): Promise<Machine> {
    // A share link opens one serial console: anything else does not exist for it.
    if (p.share) throw machineNotFound(ref);
    const m = await this.machines.get(p, ref);
    const access = await this.grants.accessTo(p, m.id);
    if (!hasRole(p.role, 'viewer') && !access.granted) throw machineNotFound(ref);
    if (!hasRole(access.role, 'operator')) throw new ForbiddenError('OpenSSH to a machine needs the operator role (or an operator grant on it).');
    if (!m.capabilities.sshd.available) throw new ConflictError(`${m.name} has no SSH server: ${m.capabilities.sshd.reason ?? 'its driver offers none.'}`);
    if (m.state !== 'running') throw new ConflictError(`${m.name} is ${m.state}: SSH needs a running machine.`);
    return m;
  }

  /**
   * A byte stream to the machine's sshd, registered so that a revocation closes it. `close` is
   * the transport's (it tells its client why); the stream is the caller's to pump and end.
   */
  async open(p: Principal, creds: Credentials, ref: string, close: (reason: string) => void): Promise<{ machine: Machine; stream: Duplex; done: () => void }> {
    const m = await this.reachable(p, ref);
    const { spec } = await this.machines.spec(m.id);
    const sshd = this.machines.driver(m.driver).sshd;
    if (!sshd) throw new ConflictError(`${m.name} has no SSH server.`);
    const stream = await sshd.connect(spec).catch((err: Error) => {
      throw new ConflictError(`${m.name}'s SSH server does not answer: ${err.message}`);
    });
    const t: Tunnel = { userId: p.user.id, machineId: m.id, creds, close };
    this.tunnels.add(t);
    return { machine: m, stream, done: () => this.tunnels.delete(t) };
  }

  /** Machines the caller may reach this way, running or not (a stopped one answers once started). */
  async hosts(p: Principal): Promise<SshHost[]> {
    if (p.share) return [];
    const visible = await this.grants.visible(p, await this.machines.listing.items());
    const out: SshHost[] = [];
    for (const m of visible) {
      if (!m.capabilities.sshd.available) continue;
      const access = await this.grants.accessTo(p, m.id);
      if (!hasRole(access.role, 'operator')) continue;
      out.push({ id: m.id, name: m.name, state: m.state, user: this.machines.driver(m.driver).sshd?.user ?? 'root' });
    }
    return out;
  }

  get openTunnels(): number {
    return this.tunnels.size;
  }

  /** The machine's host keys (for the caller's known_hosts) and its login user. */
  async hostKeys(p: Principal, ref: string): Promise<SshHostKeys> {
    const m = await this.reachable(p, ref);
    const { spec } = await this.machines.spec(m.id);
    const sshd = this.machines.driver(m.driver).sshd;
    if (!sshd) throw new ConflictError(`${m.name} has no SSH server.`);
    const keys = await sshd.hostKeys(spec).catch((err: Error) => {
      throw new ConflictError(`${m.name}'s host keys could not be read: ${err.message}`);
    });
    return { machine: m.name, keys, user: sshd.user };
  }

  /** Close every tunnel of the user whose caller may no longer reach its machine (a revoked token or session, a grant taken). */
  private async recheckTunnels(userId: string | null): Promise<void> {
    for (const t of [...this.tunnels]) {
      if (userId && t.userId !== userId) continue;
      const p = await this.auth.authenticate(t.creds).catch(() => null);
      const ok = p
        ? await this.reachable(p, t.machineId).then(
            () => true,
            () => false,
          )
        : false;
      if (!ok) {
        this.tunnels.delete(t);
        t.close('Your access to this machine was taken away.');
      }
    }
  }

  /** Every running machine with sshd, soon (changes that come together are written once). */
  syncAll(): void {
    if (this.syncAllTimer) return;
    this.syncAllTimer = setTimeout(() => {
      this.syncAllTimer = null;
      void this.machines.listing.items().then((all) => {
        for (const m of all) if (m.state === 'running' && m.capabilities.sshd.available && this.machines.driver(m.driver).sshd) this.syncMachine(m.id);
      });
    }, 100);
    this.syncAllTimer.unref();
  }

  /** Write the keys of everyone who may operate the machine into it; a write asked for during one runs again after it. */
  syncMachine(id: string): Promise<void> {
    const cur = this.syncing.get(id);
    if (cur) {
      cur.again = true;
      return cur.done;
    }
    const st = { again: false, done: Promise.resolve() };
    st.done = (async () => {
      try {
        do {
          st.again = false;
          await this.syncOnce(id).catch((err: Error) => console.warn(`hangar: SSH keys of machine ${id} not written: ${err.message}`));
        } while (st.again);
      } finally {
        this.syncing.delete(id);
      }
    })();
    this.syncing.set(id, st);
    return st.done;
  }

  /** Until every write asked for so far is done (tests). */
  async settled(): Promise<void> {
    while (this.syncing.size || this.syncAllTimer) {
      await Promise.all([...this.syncing.values()].map((s) => s.done));
      if (this.syncAllTimer) await new Promise((r) => setTimeout(r, 120));
    }
  }

  private async syncOnce(id: string): Promise<void> {
    const { row, spec } = await this.machines.spec(id).catch(() => ({ row: null, spec: null }));
    if (!row || !spec || row.state !== 'running') return;
    const sshd = this.machines.driver(row.driver).sshd;
    if (!sshd || !this.machines.views.view(row).capabilities.sshd.available) return;
    const keys = await keysOfOperators(this.store, id);
    await sshd.authorize(
      spec,
      keys.map((k) => `${k.key.publicKey} ${k.username}@hangar`),
    );
  }

  close(): void {
    if (this.syncAllTimer) clearTimeout(this.syncAllTimer);
    for (const u of this.unsubscribe) u();
    for (const t of this.tunnels) t.close('The Hangar server is shutting down.');
    this.tunnels.clear();
  }
}
