import type { CreateForkLinkBody, CreatedForkLink, ForkAction, ForkLink, ForkLinkFork } from '@/lib/contracts/fork-links';
import type { Job } from '@/lib/contracts/jobs';
import type { Store } from '@/db/client';
import {
  expiredForkLinkForks,
  getForkLink,
  getForkLinkFork,
  insertForkLink,
  listForkLinkForks,
  listForkLinks,
  revokeForkLink,
  updateForkLinkFork,
  type ForkLinkForkRow,
  type ForkLinkRow,
} from '@/db/repo/fork-links';
import { getMachineRowsByIds } from '@/db/repo/machines';
import { isOwnRow } from '@/db/repo/own';
import { specOf } from '@/db/repo/snapshots';
import { getUser } from '@/db/repo/users';
import { hashSecret, type Principal } from '../auth';
import { ConflictError, NotFoundError } from '../errors';
import { newId, newSecret } from '../ids';
import type { JobRunner } from '../jobs';
import type { MachineService } from '../machines';
import type { ShareService } from '../shares';
import type { SnapshotService } from '../snapshots';

export const FORK_LINK_PREFIX = 'hgf_';
/** How often the sweeper looks for forks whose lifetime ran out. */
const SWEEP_EVERY_MS = 15_000;

export interface ForkLinkDeps {
  store: Store;
  jobs: JobRunner;
  machines: MachineService;
  snapshots: SnapshotService;
  shares: ShareService;
  now: () => number;
}

/** Wait for a job this code started (no job of its own waits: a route's request does). */
export const settled = (jobs: JobRunner, job: Job): Promise<Job> => jobs.waitFor(job, { jobId: '', signal: new AbortController().signal });

/**
 * Fork links: made from a snapshot (or "now" of a running machine), each opener gets a fork of
 * their own for `lifetimeS`, then the server destroys it (the sweeper; the rows are stored, so a
 * restart does not forget a fork's end). The forks are the link owner's machines and count
 * against the owner's limits. Opening is in open.ts.
 */
export class ForkLinkService {
  private timer: NodeJS.Timeout | null = null;
  private sweeping: Promise<void> | null = null;

  constructor(readonly d: ForkLinkDeps) {}

  view(r: ForkLinkRow, by: string | null): ForkLink {
    const now = this.d.now();
    const state = r.revokedAt != null ? 'revoked' : r.expiresAt <= now ? 'expired' : r.used >= r.maxForks ? 'used_up' : 'active';
    return {
      id: r.id,
      snapshotId: r.snapshotId,
      snapshotLabel: null,
      machineId: r.machineId,
      label: r.label,
      maxForks: r.maxForks,
      used: r.used,
      lifetimeSeconds: r.lifetimeS,
      cpus: r.cpus,
      memoryMib: r.memoryMib,
      createdBy: by,
      createdAt: r.createdAt,
      expiresAt: r.expiresAt,
      revokedAt: r.revokedAt,
      state,
    };
  }

  private async toLink(r: ForkLinkRow): Promise<ForkLink> {
    const by = r.createdBy ? ((await getUser(this.d.store, r.createdBy))?.username ?? null) : null;
    const snap = await this.d.snapshots.get(r.snapshotId).catch(() => null);
    return { ...this.view(r, by), snapshotLabel: snap?.label ?? null };
  }

  async create(p: Principal, body: CreateForkLinkBody): Promise<CreatedForkLink> {
    let snapshotId: string;
    let machineId: string | null;
    if (body.machine) {
      const m = await this.d.machines.get(p, body.machine);
      if (m.state !== 'running') throw new ConflictError(`${m.name} is ${m.state}: a fork link from "now" needs it running (or make it from a snapshot).`);
      const done = await settled(this.d.jobs, await this.d.snapshots.checkpoint(p, m.id, `fork link of ${m.name}`));
      snapshotId = (done.result as { snapshot: string }).snapshot;
      machineId = m.id;
    } else {
      const snap = await this.d.snapshots.resolve(body.snapshot!);
      if (snap.state !== 'complete') throw new ConflictError(`This snapshot is ${snap.state}: it cannot be forked.`);
      snapshotId = snap.id;
      machineId = snap.machineId;
    }
    const snap = await this.d.snapshots.resolve(snapshotId);
    const spec = specOf(snap);
    // A live snapshot's memory and CPUs are in its saved device state: its forks carry on with them.
    if (snap.kind === 'live' && ((body.memoryMib && body.memoryMib !== spec.memoryMib) || (body.cpus && body.cpus !== spec.cpus)))
      throw new ConflictError(`A live snapshot's forks carry on with its ${spec.cpus} CPU(s) and ${spec.memoryMib} MiB: use those, or a disk snapshot.`, [
        { path: body.memoryMib !== spec.memoryMib ? 'memoryMib' : 'cpus', message: `this snapshot has ${spec.cpus} CPU(s) and ${spec.memoryMib} MiB` },
      ]);
    const token = newSecret(FORK_LINK_PREFIX);
    const now = this.d.now();
    const row: ForkLinkRow = {
      id: newId('fkl'),
      snapshotId,
      machineId,
      tokenHash: hashSecret(token),
      label: body.label ?? null,
      maxForks: body.maxForks ?? 5,
      used: 0,
      lifetimeS: body.lifetimeSeconds ?? 7200,
      cpus: body.cpus ?? null,
      memoryMib: body.memoryMib ?? null,
      createdBy: p.via === 'share' ? null : p.user.id,
      createdAt: now,
      expiresAt: now + (body.expiresInSeconds ?? 86400) * 1000,
      revokedAt: null,
    };
    await insertForkLink(this.d.store, row);
    return { link: await this.toLink(row), token, path: `/f/${token}` };
  }

  async list(): Promise<ForkLink[]> {
    return Promise.all((await listForkLinks(this.d.store)).map((r) => this.toLink(r)));
  }

  async row(id: string): Promise<ForkLinkRow> {
    const r = await getForkLink(this.d.store, id);
    if (!r) throw new NotFoundError('Fork link');
    return r;
  }

  async get(id: string): Promise<ForkLink> {
    return this.toLink(await this.row(id));
  }

  async forks(id: string): Promise<ForkLinkFork[]> {
    await this.row(id);
    const rows = await listForkLinkForks(this.d.store, id);
    const ms = new Map(
      (
        await getMachineRowsByIds(
          this.d.store,
          rows.flatMap((r) => (r.machineId ? [r.machineId] : [])),
        )
      ).map((m) => [m.id, m]),
    );
    return rows.map((r) => {
      const m = r.machineId ? ms.get(r.machineId) : undefined;
      // Destroyed by other means (the machine's own page): it is gone all the same.
      const state = !m && (r.state === 'running' || r.state === 'adopted') ? 'destroyed' : r.state;
      const { shareId: _credential, ...fork } = r;
      return { ...fork, machineName: m?.name ?? null, machineState: m?.state ?? null, state };
    });
  }

  /** The link's owner, acting: the forks are theirs (their machines, their limits). */
  async owner(link: ForkLinkRow): Promise<Principal> {
    const user = link.createdBy ? await getUser(this.d.store, link.createdBy) : undefined;
    if (!user || user.disabled) throw new ConflictError('This fork link has no owner any more: it cannot make forks.');
    return { user, role: user.role, via: 'session' };
  }

  /** Revoke: no new forks, its forks' consoles close; the forks are destroyed or kept (then as the owner's machines). */
  async revoke(id: string, forks: 'destroy' | 'keep'): Promise<{ link: ForkLink; destroyed: string[] }> {
    const link = await this.row(id);
    await revokeForkLink(this.d.store, id, this.d.now());
    const destroyed: string[] = [];
    for (const f of await listForkLinkForks(this.d.store, id)) {
      if (f.state !== 'running' && f.state !== 'starting') continue;
      if (forks === 'destroy') {
        if (await this.end(link, f, 'the link was revoked')) destroyed.push(f.machineId!);
      } else {
        await this.adopt(f);
      }
    }
    return { link: await this.toLink((await getForkLink(this.d.store, id))!), destroyed };
  }

  async act(id: string, forkId: string, action: ForkAction): Promise<{ fork: ForkLinkFork; job: Job | null }> {
    const link = await this.row(id);
    const f = await getForkLinkFork(this.d.store, forkId);
    if (!f || f.linkId !== id) throw new NotFoundError('Fork');
    if (!f.machineId || !['running', 'starting', 'adopted'].includes(f.state))
      throw new ConflictError(`This fork is ${f.state}: there is nothing to ${action}.`);
    let job: Job | null = null;
    if (action === 'stop') job = await this.d.machines.act(await this.owner(link), f.machineId, 'stop', { force: true, timeoutS: 0 });
    else if (action === 'destroy') await this.end(link, f, 'destroyed by the link owner');
    else await this.adopt(f);
    const fork = (await this.forks(id)).find((x) => x.id === forkId)!;
    return { fork, job };
  }

  /** Into the owner's machines for good: no lifetime any more, and the opener's console credential goes. */
  private async adopt(f: ForkLinkForkRow): Promise<void> {
    if (f.shareId) await this.d.shares.revoke(f.shareId).catch(() => undefined);
    await updateForkLinkFork(this.d.store, f.id, { state: 'adopted', shareId: null, reason: 'adopted into the owner’s machines', endedAt: this.d.now() });
  }

  /** Destroy a fork (its consoles close with the credential); true when there was a machine to destroy. */
  private async end(link: ForkLinkRow, f: ForkLinkForkRow, reason: string): Promise<boolean> {
    if (f.shareId) await this.d.shares.revoke(f.shareId).catch(() => undefined);
    await updateForkLinkFork(this.d.store, f.id, { state: 'destroyed', reason, endedAt: this.d.now() });
    if (!f.machineId) return false;
    const owner = await this.owner(link).catch(() => null);
    const job = owner ? await this.d.machines.destroy(owner, f.machineId).catch(() => null) : null;
    if (!job) return false;
    await settled(this.d.jobs, job).catch((err: Error) => console.error(`fork ${f.machineId}: destroy failed: ${err.message}`));
    return true;
  }

  /** Forks whose lifetime ran out are destroyed: at start (a restart forgets nothing) and every 15 s. */
  sweep(): Promise<void> {
    this.sweeping ??= (async () => {
      try {
        const expired = await expiredForkLinkForks(this.d.store, this.d.now());
        // A node destroys its own forks (a fork with no machine left: the founder closes it).
        const ids = expired.map((f) => f.machineId).filter((id): id is string => !!id);
        const nodeOf = new Map((await getMachineRowsByIds(this.d.store, ids)).map((m) => [m.id, m.nodeId]));
        for (const f of expired) {
          if (!isOwnRow(this.d.store, (f.machineId && nodeOf.get(f.machineId)) || null)) continue;
          const link = await getForkLink(this.d.store, f.linkId);
          if (link) await this.end(link, f, 'its lifetime ended');
          else await updateForkLinkFork(this.d.store, f.id, { state: 'destroyed', reason: 'its link is gone', endedAt: this.d.now() });
        }
      } catch (err) {
        console.error('fork links: sweep failed:', err);
      } finally {
        this.sweeping = null;
      }
    })();
    return this.sweeping;
  }

  start(): void {
    void this.sweep();
    this.timer = setInterval(() => void this.sweep(), SWEEP_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
