import { describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { withTempStore } from '@/db/temp-store';
import { updateUser } from '@/db/repo/users';
import { AuthService } from './auth';

let store: Store;
let clock = 1_000_000;

withTempStore('auth', (s) => (store = s));

async function withToken() {
  const auth = new AuthService(store, () => clock);
  const user = await auth.createUser('ada', 'a-long-password', 'operator');
  const { token, secret } = await auth.createToken({ user, role: 'operator', via: 'session' }, { name: 'cli', role: 'operator' });
  return { auth, user, token, secret };
}

describe('API token callers kept between requests', () => {
  it('a revoked token stops at once, though its caller was kept', async () => {
    const { auth, user, token, secret } = await withToken();
    expect((await auth.authenticate({ bearer: secret }))?.tokenId).toBe(token.id);
    expect((await auth.authenticate({ bearer: secret }))?.role).toBe('operator');
    await auth.revokeToken({ user, role: 'operator', via: 'session' }, token.id);
    expect(await auth.authenticate({ bearer: secret })).toBeNull();
  });

  it('a user disabled or given another role is read again at once (the revocation drops kept callers)', async () => {
    const { auth, user, secret } = await withToken();
    expect((await auth.authenticate({ bearer: secret }))?.role).toBe('operator');
    await updateUser(store, user.id, { role: 'viewer', disabled: false }, clock);
    auth.revoked({ userId: user.id, reason: 'role', consolesOnly: true });
    expect((await auth.authenticate({ bearer: secret }))?.role).toBe('viewer');
    await updateUser(store, user.id, { role: 'viewer', disabled: true }, clock);
    auth.revoked({ userId: user.id, reason: 'disabled' });
    expect(await auth.authenticate({ bearer: secret })).toBeNull();
  });

  it('keeps a caller at most a second: a change made behind its back shows after that', async () => {
    const { auth, user, secret } = await withToken();
    expect((await auth.authenticate({ bearer: secret }))?.role).toBe('operator');
    await updateUser(store, user.id, { role: 'viewer', disabled: false }, clock);
    expect((await auth.authenticate({ bearer: secret }))?.role).toBe('operator');
    clock += 1001;
    expect((await auth.authenticate({ bearer: secret }))?.role).toBe('viewer');
  });
});
