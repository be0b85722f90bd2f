import { describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { withTempStore } from '@/db/temp-store';
import { insertImage, updateImage } from '@/db/repo/images';
import type { ClusterNode } from '@/lib/contracts/nodes';
import type { Cluster } from './cluster';
import { placeFork, placeNew, refusal } from './placement';
import { replicaBudgetBytes, replicaRateBytes } from './replicas';

let store: Store;

const node = (id: string, name: string, more: Partial<ClusterNode> = {}): ClusterNode => ({
  id,
  name,
  internalUrl: `http://${name}`,
  version: '1',
  state: 'active',
  online: true,
  heartbeatAgeMs: 0,
  capabilities: [],
  drivers: ['qemu', 'nspawn'],
  cpus: 2,
  memoryMib: 4096,
  joinedAt: 1,
  self: false,
  ...more,
});

/** A cluster of A (this node, the founder) and B, as the registry would list them. */
const cluster = (nodes: ClusterNode[]) => ({ self: { id: 'nod_a', name: 'a' }, nodes: async () => nodes }) as unknown as Cluster;
const A = node('nod_a', 'a', { self: true });
const B = node('nod_b', 'b');

/** An image written by node `by` (what insertImage records as its node). */
async function imageOn(by: string, name: string) {
  store.node = { id: by, founder: by === 'nod_a' };
  const now = Date.now();
  const img = await insertImage(store, {
    id: `img_${name.padEnd(12, '0')}`,
    name,
    kind: 'busybox',
    state: 'ready',
    sizeBytes: 1,
    recipe: {},
    createdAt: now,
    updatedAt: now,
    path: `/d/${name}`,
  });
  store.node = { id: 'nod_a', founder: true };
  return img;
}

withTempStore('place', (s) => (store = s));

describe('placement of a new machine', () => {
  it('goes to the node that holds its image, pinned or not', async () => {
    await imageOn('nod_b', 'bb');
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu' })).toBe('nod_b');
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu', node: 'b' })).toBe('nod_b');
  });

  it('refuses a pin away from the image, an unknown node, a draining node and a node without the driver', async () => {
    await imageOn('nod_b', 'bb');
    await expect(placeNew(store, cluster([A, B]), { image: 'bb', node: 'a' })).rejects.toThrow('Image bb is on node b');
    await expect(placeNew(store, cluster([A, B]), { image: 'bb', node: 'zz' })).rejects.toThrow('Node zz not found');
    await expect(placeNew(store, cluster([A, { ...B, state: 'draining' }]), { image: 'bb' })).rejects.toThrow('node b is draining');
    await expect(placeNew(store, cluster([A, B]), { image: 'bb', driver: 'podman' })).rejects.toThrow(
      'node b does not run podman machines (it runs qemu, nspawn)',
    );
  });

  it('an image rebuilt on another node moves there; rows older than the cluster are the founder’s', async () => {
    const img = await imageOn('nod_b', 'bb');
    store.node = { id: 'nod_a', founder: true };
    await updateImage(store, img.id, { path: '/a/bb' });
    expect(await placeNew(store, cluster([A, B]), { image: 'bb' })).toBe('nod_a');
    delete store.node;
    await insertImage(store, {
      id: 'img_old000000000',
      name: 'old',
      kind: 'busybox',
      state: 'ready',
      sizeBytes: 1,
      recipe: {},
      createdAt: 1,
      updatedAt: 1,
      path: '/o',
    });
    expect(await placeNew(store, cluster([A, B]), { image: 'old' })).toBe('nod_a');
  });

  it('without an image (an ISO install) it stays here unless pinned; a node whose probe has not answered is not judged on drivers', () => {
    return Promise.all([
      expect(placeNew(store, cluster([A, B]), { driver: 'qemu' })).resolves.toBe('nod_a'),
      expect(placeNew(store, cluster([A, B]), { driver: 'qemu', node: 'b' })).resolves.toBe('nod_b'),
    ]).then(() => {
      expect(refusal({ ...B, drivers: [] }, 'podman')).toBeNull();
      expect(refusal(B, undefined)).toBeNull();
    });
  });
});

describe('forks pinned to a node (hangar fork SNAP --node NAME)', () => {
  it('any node with the driver that is not draining; unknown 404, draining or without the driver 409', async () => {
    const c = cluster([A, B, node('nod_c', 'c', { drivers: ['podman'] }), node('nod_d', 'd', { state: 'draining' })]);
    expect(await placeFork(c, { driver: 'nspawn' }, 'b')).toBe('nod_b');
    expect(await placeFork(c, { driver: 'nspawn' }, 'a')).toBe('nod_a');
    await expect(placeFork(c, { driver: 'nspawn' }, 'x')).rejects.toMatchObject({ code: 'not_found' });
    await expect(placeFork(c, { driver: 'nspawn' }, 'c')).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/does not run nspawn/) });
    await expect(placeFork(c, { driver: 'nspawn' }, 'd')).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/draining/) });
  });

  it('the replica budget and rate from the environment', () => {
    expect(replicaBudgetBytes({})).toBe(20 * 2 ** 30);
    expect(replicaBudgetBytes({ HANGAR_REPLICA_BUDGET_GIB: '1.5' })).toBe(1.5 * 2 ** 30);
    expect(replicaBudgetBytes({ HANGAR_REPLICA_BUDGET_GIB: '0' })).toBe(0);
    expect(replicaBudgetBytes({ HANGAR_REPLICA_BUDGET_GIB: 'lots' })).toBe(20 * 2 ** 30);
    expect(replicaRateBytes({})).toBe(0);
    expect(replicaRateBytes({ HANGAR_REPLICA_RATE_MIBS: '16' })).toBe(16 * 2 ** 20);
    expect(replicaRateBytes({ HANGAR_REPLICA_RATE_MIBS: '-1' })).toBe(0);
  });
});
