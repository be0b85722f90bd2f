import {
  limitKeys,
  limitOverridesSchema,
  limitWords,
  type LimitKey,
  type LimitOverrides,
  type Limits,
  type Usage,
  type UserLimits,
} from '@/lib/contracts/limits';
import type { Role } from '@/lib/roles';
import type { Store } from '@/db/client';
import { readLimitOverrides, usageOf, writeLimitOverrides } from '@/db/repo/limits';
import { getShare } from '@/db/repo/shares';
import { getUser } from '@/db/repo/users';
import type { Principal } from './auth';
import { ConflictError, NotFoundError } from './errors';
import type { SettingsService } from './settings';

/** A request that would take a user past one of their limits: 409, the limit named (and in `issues`, by key). */
export class LimitExceededError extends ConflictError {
  constructor(
    readonly limit: LimitKey,
    message: string,
  ) {
    super(message, [{ path: `limits.${limit}`, message }]);
  }
}

const zero: Usage = { machines: 0, vcpus: 0, memoryMib: 0, diskGib: 0 };
const add = (a: Usage, b: Usage, sign = 1): Usage => ({
  machines: a.machines + sign * b.machines,
  vcpus: a.vcpus + sign * b.vcpus,
  memoryMib: a.memoryMib + sign * b.memoryMib,
  diskGib: a.diskGib + sign * b.diskGib,
});

/** What `n` machines of one size take. */
export const askFor = (n: number, m: { cpus: number; memoryMib: number; diskGib: number }): Usage => ({
  machines: n,
  vcpus: n * m.cpus,
  memoryMib: n * m.memoryMib,
  diskGib: n * m.diskGib,
});

/** Held for machines a job will write later (a fork's): counted as used until released. */
export interface Reservation {
  /** One machine of it now has its row (counted from the table from now on). */
  settle(one: Usage): void;
  /** Whatever is left goes back (the job ended, done or failed). */
  release(): void;
}

/**
 * Limits per user: the role's defaults (Settings) with the user's overrides, checked against
 * what the user's machines take. The check and the row it allows happen under one lock per
 * user, and forks in flight hold a reservation, so requests racing each other cannot together
 * pass a limit (20 creates at once against 5: 5 made, 15 refused). The lock is this process's:
 * nodes sharing one PostgreSQL each keep their own.
 */
export class LimitService {
  private readonly locks = new Map<string, Promise<void>>();
  private readonly reserved = new Map<string, Usage>();

  constructor(
    private readonly store: Store,
    private readonly settings: SettingsService,
    private readonly now: () => number = Date.now,
  ) {}

  effective(role: Role, overrides: LimitOverrides): Limits {
    return { ...this.settings.get().roleLimits[role], ...overrides };
  }

  async of(userId: string): Promise<UserLimits> {
    const user = await getUser(this.store, userId);
    const overrides = await readLimitOverrides(this.store, userId);
    if (!user || !overrides) throw new NotFoundError('User');
    const usage = add(await usageOf(this.store, userId), this.reserved.get(userId) ?? zero);
    return { userId, username: user.username, role: user.role, limits: this.effective(user.role, overrides), overrides, usage };
  }

  async setOverrides(userId: string, overrides: LimitOverrides): Promise<UserLimits> {
    const clean = limitOverridesSchema.parse(overrides);
    if (!(await writeLimitOverrides(this.store, userId, clean, this.now()))) throw new NotFoundError('User');
    return this.of(userId);
  }

  /** Whose limits a principal's new machines count against: the user's, or for a share link its creator's. */
  async chargeTo(p: Principal): Promise<string> {
    if (p.via !== 'share' || !p.share) return p.user.id;
    const link = await getShare(this.store, p.share.id);
    if (!link?.createdBy) throw new ConflictError('This share link has no owner any more: it cannot make machines.');
    return link.createdBy;
  }

  /** Under the user's lock: refuse when `ask` would pass a limit, else run `fn` (which writes the rows). */
  async admit<T>(userId: string, ask: Usage, fn: () => Promise<T>): Promise<T> {
    return this.locked(userId, async () => {
      await this.check(userId, ask);
      return fn();
    });
  }

  /**
   * Refuse at once (an HTTP 409 rather than a job that fails later) when the user has no room for
   * `ask`: a chain build's machine. Its create inside the job checks again under the lock.
   */
  async ensureRoom(userId: string, ask: Partial<Usage>): Promise<void> {
    await this.check(userId, { ...zero, ...ask });
  }

  /** Check and hold `ask` for machines a job writes later. */
  async reserve(userId: string, ask: Usage): Promise<Reservation> {
    await this.locked(userId, async () => {
      await this.check(userId, ask);
      this.reserved.set(userId, add(this.reserved.get(userId) ?? zero, ask));
    });
    let left = ask;
    const giveBack = (part: Usage) => {
      const held = add(this.reserved.get(userId) ?? zero, part, -1);
      if (held.machines <= 0) this.reserved.delete(userId);
      else this.reserved.set(userId, held);
      left = add(left, part, -1);
    };
    return {
      settle: (one) => left.machines > 0 && giveBack(one),
      release: () => left.machines > 0 && giveBack(left),
    };
  }

  private async check(userId: string, ask: Usage): Promise<void> {
    const { limits, usage, role } = await this.of(userId);
    for (const k of limitKeys) {
      const max = limits[k];
      if (max === null || ask[k] === 0 || usage[k] + ask[k] <= max) continue;
      const w = limitWords[k];
      throw new LimitExceededError(
        k,
        `Limit reached: ${w.name}. This would make ${usage[k] + ask[k]}${w.unit} of ${max}${w.unit} allowed ` +
          `(${usage[k]}${w.unit} held now, ${ask[k]}${w.unit} asked; the limit of a ${role}, or this user's own). Remove machines or ask an admin.`,
      );
    }
  }

  private async locked<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((r) => (done = r));
    const tail = prev.then(() => mine);
    this.locks.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      done();
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}
