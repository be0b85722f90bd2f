import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Store } from '@/db/client';
import { withCapabilities, type Machine, type MachineList as MachineListBody } from '@/lib/contracts/machines';
import { deleteMachine, getMachineRowsByIds, insertMachine, listMachineRows, toMachineBase, updateMachine, type MachineRow } from '@/db/repo/machines';
import { EventBus } from './events';
import { MachineList, type MachineReader } from './machine-list';
import { decodeCursor } from './paging';

let dir: string;
let store: Store;
let bus: EventBus;
let reader: MachineReader;
/** What the drivers would add is not this list's business: the base fields and a stand-in description (one per driver) stand for the machine. */
let variant = '';
const view = (r: MachineRow) =>
  ({ ...toMachineBase(r), capabilities: { words: { kind: `a ${r.driver}${r.driver === 'nspawn' ? variant : ''}` } } }) as unknown as Machine;

const add = (name: string, driver: 'qemu' | 'nspawn' = 'qemu') =>
  insertMachine(store, {
    id: `mch_${name.replace(/-/g, '').padEnd(12, '0')}`,
    name,
    driver,
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
    const body = JSON.parse(whole.json) as MachineListBody;
    // Each machine names its description; the list carries it once.
    expect(Object.keys(body.capabilities)).toHaveLength(1);
    expect(body.items.every((m) => m.capabilitiesKey === body.items[0].capabilitiesKey && !('capabilities' in m))).toBe(true);
    expect(withCapabilities(body)).toEqual({ items: await list.items(), next: null });
    expect(await list.json()).toBe(whole);
    const p1 = JSON.parse((await list.page(undefined, 2)).json) as MachineListBody;
    expect(p1.items.map((m: { name: string }) => m.name)).toEqual(['m-a', 'm-b']);
    const p2 = JSON.parse((await list.page(decodeCursor(p1.next!), 2)).json);
    expect(withCapabilities(p2)).toEqual({ items: [await list.one('m-c').then((e) => e!.machine)], next: null });
    // A machine of another driver: its own description joins the list's.
    bus.publish('machine:update', view(await add('m-bb', 'nspawn')));
    const mixed = JSON.parse((await list.json()).json) as MachineListBody;
    expect(Object.values(mixed.capabilities)).toEqual(expect.arrayContaining([{ words: { kind: 'a qemu' } }, { words: { kind: 'a nspawn' } }]));
    expect(withCapabilities(mixed).items.map((m) => m.capabilities.words.kind)).toEqual(['a qemu', 'a qemu', 'a nspawn', 'a qemu']);
    // Descriptions come and go (a host probe changes them): past the few kept, those no machine names go; each machine keeps its own.
    const bb = (await list.one('m-bb'))!.machine;
    for (let i = 0; i < 100; i++) {
      variant = ` v${i}`;
      bus.publish('machine:update', bb);
      await list.items();
    }
    const varied = JSON.parse((await list.json()).json) as MachineListBody;
    expect(withCapabilities(varied).items.map((m) => m.capabilities.words.kind)).toEqual(['a qemu', 'a qemu', 'a nspawn v99', 'a qemu']);
    expect(Object.keys(varied.capabilities)).toHaveLength(2);
    expect((list as unknown as { descriptions: Map<string, string> }).descriptions.size).toBeLessThanOrEqual(65);
    variant = '';
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
