import { describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { withTempStore } from '@/db/temp-store';
import { consumeJoinToken, insertJoinToken } from '@/db/repo/join-tokens';
import { insertNode, listNodes } from '@/db/repo/nodes';
import { hashSecret } from '../auth';
import { JoinService, versionMismatch } from './join';
import { toClusterNode } from './nodes';

let store: Store;

withTempStore('join', (s) => (store = s));

const body = (token: string, version = '1.0.0') => ({
  token,
  nodeId: 'nod_bbbbbbbbbbbbbbbbbbbb',
  name: 'b',
  internalUrl: 'http://127.0.0.1:9',
  version,
  publicKey: 'x'.repeat(60),
});

describe('join tokens', () => {
  it('a token is used once, even by two joins at the same moment', async () => {
    await insertJoinToken(store, { id: 'jtk_1', tokenHash: hashSecret('hgj_t'), createdBy: null, ttlMs: 60_000 });
    const [x, y] = await Promise.all([consumeJoinToken(store, hashSecret('hgj_t'), 'nod_1'), consumeJoinToken(store, hashSecret('hgj_t'), 'nod_2')]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
    expect(await consumeJoinToken(store, hashSecret('hgj_t'), 'nod_3')).toBeUndefined();
  });

  it('an expired token is refused', async () => {
    await insertJoinToken(store, { id: 'jtk_2', tokenHash: hashSecret('hgj_old'), createdBy: null, ttlMs: -1 });
    expect(await consumeJoinToken(store, hashSecret('hgj_old'), 'nod_1')).toBeUndefined();
  });

  it('a node of another version is refused naming both versions, before its token is used', async () => {
    const svc = new JoinService({ store, version: '1.0.0', clusterId: () => 'cls_x', sign: () => ({}) });
    const made = await svc.createToken(null, 60, 'http://a:3000');
    expect(made.command).toBe(`hangar up --cluster-join http://a:3000 --token ${made.token}`);
    await expect(svc.join(body(made.token, '0.9.1'), null)).rejects.toThrow(versionMismatch('b', '0.9.1', '1.0.0'));
    expect(versionMismatch('b', '0.9.1', '1.0.0')).toMatch(/^node b runs 0.9.1, this cluster 1.0.0/);
    // An unreachable joiner: refused, and the token is given back for a corrected attempt.
    await expect(svc.join(body(made.token), null)).rejects.toThrow(/cannot reach node b/);
    expect(await consumeJoinToken(store, hashSecret(made.token), 'nod_x')).toBeDefined();
  });
});

describe('offline by the database clock', () => {
  it('age comes from the database, so a node whose own clock is off is still judged by heartbeat_at', async () => {
    await insertNode(store, {
      id: 'nod_a',
      name: 'a',
      publicKey: 'k',
      version: '1',
      internalUrl: '',
      capabilitiesJson: '{}',
      driversJson: '[]',
      cpus: 1,
      memoryMib: 1,
      memoryLimitMib: 0,
      usageJson: '{}',
    });
    const fresh = (await listNodes(store)).nodes[0];
    expect(toClusterNode(fresh, 'nod_a').online).toBe(true);
    // A heartbeat written 11 s ago by the database's clock: offline, whatever this host's clock says.
    await store.db.update(store.t.nodes).set({ heartbeatAt: fresh.heartbeatAt - 11_000 });
    const { nodes, dbNowMs } = await listNodes(store);
    expect(nodes[0].ageMs).toBeGreaterThanOrEqual(11_000);
    expect(toClusterNode(nodes[0], 'nod_b').online).toBe(false);
    expect(Math.abs(dbNowMs - Date.now())).toBeLessThan(5_000);
  });
});
