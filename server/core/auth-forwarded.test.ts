import { describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { withTempStore } from '@/db/temp-store';
import { updateUser } from '@/db/repo/users';
import { AuthService, type ForwardedCreds } from './auth';
import { encodeForwarded } from './cluster/forward';

let store: Store;
let clock = 1_000_000;

withTempStore('authfwd', (s) => (store = s));

const creds = (principal: string): ForwardedCreds => ({ node: 'nod_a', principal, method: 'POST', path: '/api/machines/x/exec', header: () => undefined });

describe('a request forwarded by another node', () => {
  it("is the signed user (role at most the user's, re-read), by the node that forwarded it, from the client's address", async () => {
    const auth = new AuthService(store, () => clock);
    auth.verifyForwarded = async () => 'nod_a';
    const user = await auth.createUser('ada', 'a-long-password', 'operator');
    const signed = encodeForwarded({ user: { ...user, role: 'admin' }, role: 'admin', via: 'token', tokenId: 'tok_x' }, '10.0.0.9');
    const p = await auth.authenticate({ forwarded: creds(signed) });
    expect(p).toMatchObject({ role: 'operator', via: 'token', tokenId: 'tok_x', forwarded: { by: 'nod_a', ip: '10.0.0.9' } });
    expect(p?.user.username).toBe('ada');
    // Disabled on any node: refused once the kept user is a second old.
    await updateUser(store, user.id, { disabled: true }, clock);
    clock += 1500;
    expect(await auth.authenticate({ forwarded: creds(signed) })).toBeNull();
  });

  it('without a valid signature it is nobody, whatever else the request carries', async () => {
    const auth = new AuthService(store, () => clock);
    const user = await auth.createUser('bob', 'a-long-password', 'admin');
    const signed = encodeForwarded({ user, role: 'admin', via: 'session', sessionId: 'ses_x' }, null);
    // The default verifier (one node) and a node whose signature does not check both give null.
    expect(await auth.authenticate({ forwarded: creds(signed) })).toBeNull();
    auth.verifyForwarded = async () => null;
    expect(await auth.authenticate({ forwarded: creds(signed), bearer: 'hgr_whatever' })).toBeNull();
    auth.verifyForwarded = async () => 'nod_a';
    expect(await auth.authenticate({ forwarded: creds('not-base64-json') })).toBeNull();
  });
});
