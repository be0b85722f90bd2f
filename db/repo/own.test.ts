import { describe, expect, it } from 'vitest';
import type { Store } from '@/db/client';
import { withTempStore } from '@/db/temp-store';
import { getMachineRowsByIds, insertMachine, listMachineRowsInStates } from './machines';
import { isOwnRow } from './own';
import { insertSnapshot, listSnapshotRowsInState } from './snapshots';

let store: Store;

const add = (name: string) =>
  insertMachine(store, {
    id: `mch_${name.padEnd(12, '0')}`,
    name,
    driver: 'qemu',
    image: 'busybox',
    state: 'running',
    stateReason: null,
    cpus: 1,
    memoryMib: 256,
    diskGib: 2,
    ports: [],
    ownerId: null,
    createdAt: 1,
    updatedAt: 1,
  });

const snap = (id: string) => insertSnapshot(store, { id, kind: 'live', label: id, state: 'pending', path: `/x/${id}`, createdAt: 1 });

withTempStore('own', (s) => (store = s));

const names = (rows: { name: string }[]) => rows.map((r) => r.name).sort();
const ids = (rows: { id: string }[]) => rows.map((r) => r.id).sort();

describe('rows by node (what the start-up and periodic passes see)', () => {
  it('one node: every row is its own, and new rows name no node', async () => {
    const m = await add('solo');
    expect(m.nodeId).toBeNull();
    expect(names(await listMachineRowsInStates(store, ['running']))).toEqual(['solo']);
    expect(isOwnRow(store, 'nod_other')).toBe(true);
  });

  it('a joined node sees only its own machines and snapshots; the founder also the rows older than the cluster', async () => {
    const old = await add('old');
    await snap('snp_old');
    store.node = { id: 'nod_a', founder: true };
    const onA = await add('on-a');
    await snap('snp_a');
    store.node = { id: 'nod_b', founder: false };
    const onB = await add('on-b');
    await snap('snp_b');
    expect(onA.nodeId).toBe('nod_a');
    expect(onB.nodeId).toBe('nod_b');
    // B's re-attach, monitor and stats never see A's running machines (nor the founder's old ones).
    expect(names(await listMachineRowsInStates(store, ['running']))).toEqual(['on-b']);
    expect(ids(await listSnapshotRowsInState(store, 'pending'))).toEqual(['snp_b']);
    expect(isOwnRow(store, null)).toBe(false);
    store.node = { id: 'nod_a', founder: true };
    expect(names(await listMachineRowsInStates(store, ['running']))).toEqual(['old', 'on-a']);
    expect(ids(await listSnapshotRowsInState(store, 'pending'))).toEqual(['snp_a', 'snp_old']);
    expect(isOwnRow(store, null)).toBe(true);
    expect((await getMachineRowsByIds(store, [old.id]))[0].nodeId).toBeNull();
  });
});
