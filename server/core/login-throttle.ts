/**
 * Failed logins, per username and per client address, with a lockout that doubles: after
 * `free` failures each further one locks the key for 1 s, 2 s, 4 s ... up to `maxLockMs`.
 * A key forgets its failures after `forgetMs` without one; a success clears the username's.
 * In memory: one Hangar server process owns its logins.
 */
export interface ThrottlePolicy {
  free: number;
  maxLockMs: number;
  forgetMs: number;
}

interface Entry {
  failures: number;
  lastAt: number;
  lockedUntil: number;
}

const MAX_KEYS = 50_000;

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly policies: { user: ThrottlePolicy; ip: ThrottlePolicy } = {
      user: { free: 5, maxLockMs: 15 * 60_000, forgetMs: 15 * 60_000 },
      // One address may be a whole office behind NAT: more room before it locks.
      ip: { free: 30, maxLockMs: 15 * 60_000, forgetMs: 15 * 60_000 },
    },
    private readonly now: () => number = Date.now,
  ) {}

  private keys(username: string, ip: string | null): [string, ThrottlePolicy][] {
    return [[`u:${username.toLowerCase()}`, this.policies.user], ...(ip ? [[`ip:${ip}`, this.policies.ip] as [string, ThrottlePolicy]] : [])];
  }

  private entry(key: string, policy: ThrottlePolicy): Entry | undefined {
    const e = this.entries.get(key);
    if (e && this.now() - e.lastAt > policy.forgetMs && e.lockedUntil <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Milliseconds until this username (from this address) may try again; 0 when it may now. */
  retryAfterMs(username: string, ip: string | null): number {
    return Math.max(0, ...this.keys(username, ip).map(([k, p]) => (this.entry(k, p)?.lockedUntil ?? 0) - this.now()));
  }

  fail(username: string, ip: string | null): void {
    if (this.entries.size > MAX_KEYS) this.prune();
    for (const [k, p] of this.keys(username, ip)) {
      const e = this.entry(k, p) ?? { failures: 0, lastAt: 0, lockedUntil: 0 };
      e.failures++;
      e.lastAt = this.now();
      if (e.failures > p.free) e.lockedUntil = this.now() + Math.min(p.maxLockMs, 1000 * 2 ** Math.min(30, e.failures - p.free - 1));
      this.entries.set(k, e);
    }
  }

  succeed(username: string): void {
    this.entries.delete(`u:${username.toLowerCase()}`);
  }

  private prune(): void {
    for (const [k, e] of this.entries) if (e.lockedUntil <= this.now() && this.now() - e.lastAt > this.policies.user.forgetMs) this.entries.delete(k);
  }
}
