import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle';

describe('login throttle', () => {
  it('locks a username after the free failures, doubling each time, and forgets after a quiet while', () => {
    let t = 0;
    const th = new LoginThrottle({ user: { free: 3, maxLockMs: 8000, forgetMs: 60_000 }, ip: { free: 100, maxLockMs: 1000, forgetMs: 60_000 } }, () => t);
    for (let i = 0; i < 3; i++) th.fail('Alice', '10.0.0.1');
    expect(th.retryAfterMs('alice', '10.0.0.2')).toBe(0);
    th.fail('alice', '10.0.0.1');
    expect(th.retryAfterMs('alice', '10.0.0.2')).toBe(1000);
    t += 1000;
    expect(th.retryAfterMs('alice', null)).toBe(0);
    th.fail('alice', null);
    expect(th.retryAfterMs('alice', null)).toBe(2000);
    for (let i = 0; i < 5; i++) th.fail('alice', null);
    expect(th.retryAfterMs('alice', null)).toBe(8000);
    // Other users are not locked by alice's failures.
    expect(th.retryAfterMs('bob', null)).toBe(0);
    t += 8000 + 60_001;
    expect(th.retryAfterMs('alice', null)).toBe(0);
    th.fail('alice', null);
    expect(th.retryAfterMs('alice', null)).toBe(0);
  });

  it('locks an address guessing many usernames, and a success clears the username only', () => {
    let t = 0;
    const th = new LoginThrottle({ user: { free: 5, maxLockMs: 8000, forgetMs: 60_000 }, ip: { free: 4, maxLockMs: 8000, forgetMs: 60_000 } }, () => t);
    for (const u of ['a', 'b', 'c', 'd', 'e']) th.fail(u, '10.0.0.9');
    expect(th.retryAfterMs('zed', '10.0.0.9')).toBe(1000);
    expect(th.retryAfterMs('zed', '10.0.0.8')).toBe(0);
    th.succeed('a');
    expect(th.retryAfterMs('a', '10.0.0.9')).toBe(1000);
    t += 1000;
    expect(th.retryAfterMs('a', '10.0.0.9')).toBe(0);
  });
});
