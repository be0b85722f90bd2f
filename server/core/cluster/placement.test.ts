import { describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { withTempStore } from '@/db/temp-store';
import { eq } from 'drizzle-orm';
import { insertImage } from '@/db/repo/images';
import { insertMachine } from '@/db/repo/machines';
import type { ClusterNode } from '@/lib/contracts/nodes';
import type { Cluster } from './cluster';
import { placeFork, placeNew, refusal } from './placement';
import { imageCopyBudgetBytes } from './image-copies';
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

/** A machine of `mib` MiB in `state` run by node `by`. */
async function machineOn(by: string, name: string, mib: number, state: 'running' | 'stopped' = 'running') {
  store.node = { id: by, founder: by === 'nod_a' };
  await insertMachine(store, {
    id: `mch_${name.replace(/-/g, '').padEnd(12, '0')}`,
    name,
    driver: 'nspawn',
    image: 'bb',
    state,
    stateReason: null,
    cpus: 1,
    memoryMib: mib,
    diskGib: 2,
    ports: [],
    ownerId: null,
    createdAt: 1,
    updatedAt: 1,
  });
  store.node = { id: 'nod_a', founder: true };
}

describe('placement of a new machine', () => {
  it('goes to the least loaded node, the image copied there when it lacks it; a tie goes to the image’s node', async () => {
    await imageOn('nod_b', 'bb');
    // Nothing runs anywhere: the node holding the image (no copy to make).
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu' })).toBe('nod_b');
    await machineOn('nod_b', 'busy-b', 1024);
    // Stopped machines hold no memory.
    await machineOn('nod_a', 'idle-a', 2048, 'stopped');
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu', memoryMib: 256 })).toBe('nod_a');
    await machineOn('nod_a', 'busy-a', 2048);
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu', memoryMib: 256 })).toBe('nod_b');
    // Load is the share of each node's memory: B with twice the memory is the lighter one.
    const bigB = { ...B, memoryMib: 16384 };
    expect(await placeNew(store, cluster([A, bigB]), { image: 'bb' })).toBe('nod_b');
  });

  it('skips nodes that are offline, draining, without the driver or without room, and says why when none is left', async () => {
    await imageOn('nod_a', 'bb');
    await machineOn('nod_a', 'busy-a', 1024);
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'nspawn' })).toBe('nod_b');
    expect(await placeNew(store, cluster([A, { ...B, online: false }]), { image: 'bb' })).toBe('nod_a');
    expect(await placeNew(store, cluster([A, { ...B, state: 'draining' }]), { image: 'bb' })).toBe('nod_a');
    expect(await placeNew(store, cluster([A, { ...B, drivers: ['podman'] }]), { image: 'bb', driver: 'nspawn' })).toBe('nod_a');
    await machineOn('nod_b', 'busy-b', 4000);
    // B has 96 MiB left: no room there for 512 MiB.
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', memoryMib: 512 })).toBe('nod_a');
    await expect(placeNew(store, cluster([A, B]), { image: 'bb', memoryMib: 3500 })).rejects.toThrow(
      /No node can take this machine: node a has 3072 of 4096 MiB free for machines \(3500 asked\); node b has 96 of 4096 MiB free/,
    );
  });

  it('a pin goes where it says (the image is copied there); unknown 404, draining or without the driver 409', async () => {
    await imageOn('nod_b', 'bb');
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu', node: 'a' })).toBe('nod_a');
    expect(await placeNew(store, cluster([A, B]), { image: 'bb', driver: 'qemu', node: 'b' })).toBe('nod_b');
    await expect(placeNew(store, cluster([A, B]), { image: 'bb', node: 'zz' })).rejects.toThrow('Node zz not found');
    await expect(placeNew(store, cluster([A, { ...B, state: 'draining' }]), { image: 'bb', node: 'b' })).rejects.toThrow('node b is draining');
    await expect(placeNew(store, cluster([A, B]), { image: 'bb', driver: 'podman', node: 'b' })).rejects.toThrow(
      'node b does not run podman machines (it runs qemu, nspawn)',
    );
  });

  it('an OCI image is placed as any other: by load, ties to the node that pulled it, a pin anywhere (its layers are copied there)', async () => {
    const img = await imageOn('nod_b', 'ubi');
    await store.db.update(store.t.images).set({ kind: 'oci' }).where(eq(store.t.images.id, img.id));
    expect(await placeNew(store, cluster([A, B]), { image: 'ubi', driver: 'nspawn' })).toBe('nod_b');
    expect(await placeNew(store, cluster([A, B]), { image: 'ubi', node: 'a' })).toBe('nod_a');
    await machineOn('nod_b', 'busy-b', 2048);
    expect(await placeNew(store, cluster([A, B]), { image: 'ubi', driver: 'nspawn' })).toBe('nod_a');
  });

  it('rows older than the cluster are the founder’s (the node that joined first)', async () => {
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
    store.node = { id: 'nod_a', founder: true };
    expect(await placeNew(store, cluster([A, { ...B, joinedAt: 5 }]), { image: 'old' })).toBe('nod_a');
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

  it('the replica and image copy budgets and the rate from the environment', () => {
    expect(replicaBudgetBytes({})).toBe(20 * 2 ** 30);
    expect(replicaBudgetBytes({ HANGAR_REPLICA_BUDGET_GIB: '1.5' })).toBe(1.5 * 2 ** 30);
    expect(replicaBudgetBytes({ HANGAR_REPLICA_BUDGET_GIB: '0' })).toBe(0);
    expect(replicaBudgetBytes({ HANGAR_REPLICA_BUDGET_GIB: 'lots' })).toBe(20 * 2 ** 30);
    expect(imageCopyBudgetBytes({})).toBe(20 * 2 ** 30);
    expect(imageCopyBudgetBytes({ HANGAR_IMAGE_COPY_BUDGET_GIB: '0' })).toBe(0);
    expect(imageCopyBudgetBytes({ HANGAR_IMAGE_COPY_BUDGET_GIB: ' 2 ' })).toBe(2 * 2 ** 30);
    expect(replicaRateBytes({})).toBe(0);
    expect(replicaRateBytes({ HANGAR_REPLICA_RATE_MIBS: '16' })).toBe(16 * 2 ** 20);
    expect(replicaRateBytes({ HANGAR_REPLICA_RATE_MIBS: '-1' })).toBe(0);
  });
});
