import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Store } from '@/db/client';
import type { Machine } from '@/lib/contracts/machines';
import { deleteMachine, getMachineRowsByIds, insertMachine, listMachineRows, toMachineBase, updateMachine, type MachineRow } from '@/db/repo/machines';
import { EventBus } from './events';
import { MachineList, type MachineReader } from './machine-list';
import { decodeCursor } from './paging';

let dir: string;
let store: Store;
let bus: EventBus;
let reader: MachineReader;
/** What the drivers would add is not this list's business: the base fields stand for the machine. */
const view = (r: MachineRow) => toMachineBase(r) as Machine;

const add = (name: string) =>
  insertMachine(store, {
    id: `mch_${name.replace(/-/g, '').padEnd(12, '0')}`,
    name,
    driver: 'qemu',
    image: 'busybox',
    state: 'stopped',
    stateReason: null,
    cpus: 1,
    memoryMib: 256,
    diskGib: 2,
    ports: [],
    ownerId: null,
    createdAt: 1,
    updatedAt: 1,
  });

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-mlist-'));
  store = openDatabase({ sqlitePath: path.join(dir, 'db.sqlite'), migrationsDir: path.resolve('db/migrations') });
  await store.migrate();
  bus = new EventBus();
  reader = {
    all: async () => (await listMachineRows(store)).map(view),
    byIds: async (ids) => (await getMachineRowsByIds(store, ids)).map(view),
    one: async (ref) => (await listMachineRows(store)).map(view).find((m) => m.id === ref || m.name === ref),
  };
  for (const n of ['m-c', 'm-a', 'm-b']) await add(n);
});
afterEach(async () => {
  await store.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('MachineList', () => {
  it('lists by name, pages by cursor, and keeps the JSON until a machine changes', async () => {
    const list = new MachineList(reader, bus);
    expect((await list.items()).map((m) => m.name)).toEqual(['m-a', 'm-b', 'm-c']);
    const whole = await list.json();
    expect(JSON.parse(whole.json)).toEqual({ items: await list.items(), next: null });
    expect(await list.json()).toBe(whole);
    const p1 = JSON.parse((await list.page(undefined, 2)).json);
    expect(p1.items.map((m: { name: string }) => m.name)).toEqual(['m-a', 'm-b']);
    const p2 = JSON.parse((await list.page(decodeCursor(p1.next), 2)).json);
    expect(p2).toMatchObject({ items: [{ name: 'm-c' }], next: null });
  });

  it('finds a machine another node made before its notice arrives (by name and id), and then lists it', async () => {
    const list = new MachineList(reader, bus);
    expect((await list.items()).map((m) => m.name)).toEqual(['m-a', 'm-b', 'm-c']);
    const e = await add('m-e');
    expect((await list.one('m-e'))?.machine.id).toBe(e.id);
    const f = await add('m-f');
    expect((await list.one(f.id))?.machine.name).toBe('m-f');
    expect(await list.one('m-none')).toBeUndefined();
    expect((await list.items()).map((m) => m.name)).toEqual(['m-a', 'm-b', 'm-c', 'm-e', 'm-f']);
  });

  it('reads again only the machine that changed, and a new or removed one', async () => {
    const list = new MachineList(reader, bus);
    const before = await list.json();
    const b = (await list.one('m-b'))!;
    const changed = view((await updateMachine(store, b.machine.id, { state: 'running' }))!);
    bus.publish('machine:update', changed);
    expect((await list.one('m-b'))!.machine.state).toBe('running');
    expect((await list.one(b.machine.id))!.body.json).toBe(JSON.stringify(changed));
    const after = await list.json();
    expect(after).not.toBe(before);
    expect(after.etag).not.toBe(before.etag);

    const d = await add('m-d');
    bus.publish('machine:update', view(d));
    expect((await list.one('m-d'))?.machine.id).toBe(d.id);
    await deleteMachine(store, d.id);
    bus.publish('machine:removed', { id: d.id });
    expect(await list.one('m-d')).toBeUndefined();
    expect((await list.items()).map((m) => m.name)).toEqual(['m-a', 'm-b', 'm-c']);
  });

  it('sees a change published while the first read is in flight', async () => {
    const list = new MachineList(reader, bus);
    const a = (await list.items())[0];
    const reading = new MachineList(reader, bus);
    const pending = reading.items();
    const changed = view((await updateMachine(store, a.id, { state: 'failed', stateReason: 'x' }))!);
    bus.publish('machine:update', changed);
    await pending;
    expect((await reading.one(a.id))!.machine.state).toBe('failed');
  });
});
