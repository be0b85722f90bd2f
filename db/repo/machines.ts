import { and, asc, eq, inArray, like, or, sql } from 'drizzle-orm';
import type { Machine } from '@/lib/contracts/machines';
import type { Store } from '../client';
import { newRowNode, ownRows } from './own';
import { prepared } from './prepared';

/** What a machine's driver says of it (from its runtime record) and what it can do, and its node as shown: added by core. */
export type DriverFields = 'accel' | 'ssh' | 'network' | 'address' | 'command' | 'cdrom' | 'firmware' | 'capabilities' | 'node';
export type MachineBase = Omit<Machine, DriverFields>;

/** A machine as the database knows it; its runtime record is its driver's to read (core adds what the driver says). */
export function toMachineBase(r: MachineRow): MachineBase {
  return {
    id: r.id,
    name: r.name,
    driver: r.driver,
    image: r.image,
    state: r.state,
    stateReason: r.stateReason,
    cpus: r.cpus,
    memoryMib: r.memoryMib,
    diskGib: r.diskGib,
    ports: JSON.parse(r.portsJson),
    ownerId: r.ownerId,
    snapshotId: r.snapshotId,
    recordConsole: r.recordConsole,
    tags: JSON.parse(r.tagsJson),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export async function listMachines(s: Store): Promise<MachineBase[]> {
  return (await listMachineRows(s)).map(toMachineBase);
}

/** Every machine row by name, runtime included. */
export async function listMachineRows(s: Store): Promise<MachineRow[]> {
  return s.db.select().from(s.t.machines).orderBy(asc(s.t.machines.name));
}

/**
 * The names in use among `names` and those starting with `prefix` (one indexed query, not every
 * row: a fork picks its name with it). Names are [a-z0-9-] only: no LIKE wildcard in a prefix.
 */
export async function namesTaken(s: Store, q: { names: string[]; prefix?: string }): Promise<Set<string>> {
  const col = s.t.machines.name;
  const conds = [...(q.names.length ? [inArray(col, q.names)] : []), ...(q.prefix ? [like(col, `${q.prefix}%`)] : [])];
  if (!conds.length) return new Set();
  const rows = await s.db
    .select({ name: col })
    .from(s.t.machines)
    .where(or(...conds));
  return new Set(rows.map((r) => r.name).filter((n) => q.names.includes(n) || (q.prefix !== undefined && n.startsWith(q.prefix))));
}

export async function insertMachine(
  s: Store,
  m: Omit<Machine, DriverFields | 'snapshotId' | 'recordConsole' | 'tags' | 'state'> & {
    state: MachineRow['state'];
    recordConsole?: boolean;
    tags?: string[];
    snapshotId?: string | null;
    runtime?: Readonly<Record<string, unknown>>;
  },
): Promise<MachineRow> {
  const [row] = await s.db
    .insert(s.t.machines)
    .values({
      id: m.id,
      name: m.name,
      driver: m.driver,
      image: m.image,
      state: m.state,
      stateReason: m.stateReason,
      cpus: m.cpus,
      memoryMib: m.memoryMib,
      diskGib: m.diskGib,
      portsJson: JSON.stringify(m.ports),
      ownerId: m.ownerId,
      snapshotId: m.snapshotId ?? null,
      recordConsole: m.recordConsole ?? false,
      tagsJson: JSON.stringify(m.tags ?? []),
      runtimeJson: JSON.stringify(m.runtime ?? {}),
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
      nodeId: newRowNode(s),
    })
    .returning();
  return row;
}

export type MachineRow = Store['t']['machines']['$inferSelect'];
export type MachinePatch = Partial<Pick<MachineRow, 'state' | 'stateReason' | 'updatedAt' | 'snapshotId' | 'recordConsole' | 'nodeId'>> & {
  runtime?: Readonly<Record<string, unknown>>;
  tags?: string[];
};

export async function getMachineRow(s: Store, by: { id: string } | { name: string }): Promise<MachineRow | undefined> {
  const cond = 'id' in by ? eq(s.t.machines.id, by.id) : eq(s.t.machines.name, by.name);
  const [row] = await s.db.select().from(s.t.machines).where(cond).limit(1);
  return row;
}

/** Machine rows by id (the list cache re-reads the ones that changed); a missing id is left out. */
export async function getMachineRowsByIds(s: Store, ids: string[]): Promise<MachineRow[]> {
  if (ids.length === 1) {
    const q = prepared(s, 'getMachineById', () =>
      s.db
        .select()
        .from(s.t.machines)
        .where(eq(s.t.machines.id, sql.placeholder('id')))
        .prepare('getMachineById'),
    );
    return q.execute({ id: ids[0] });
  }
  return ids.length ? s.db.select().from(s.t.machines).where(inArray(s.t.machines.id, ids)) : [];
}

export async function updateMachine(s: Store, id: string, patch: MachinePatch): Promise<MachineRow | undefined> {
  const { runtime, tags, ...rest } = patch;
  const values = {
    ...rest,
    ...(runtime === undefined ? {} : { runtimeJson: JSON.stringify(runtime) }),
    ...(tags === undefined ? {} : { tagsJson: JSON.stringify(tags) }),
  };
  const [row] = await s.db.update(s.t.machines).set(values).where(eq(s.t.machines.id, id)).returning();
  return row;
}

export async function deleteMachine(s: Store, id: string): Promise<void> {
  await s.db.delete(s.t.machines).where(eq(s.t.machines.id, id));
}

/** This node's machines in these states (re-attach, the monitor, stats sampling: a node acts on its own processes only). */
export async function listMachineRowsInStates(s: Store, states: MachineRow['state'][]): Promise<MachineRow[]> {
  return s.db
    .select()
    .from(s.t.machines)
    .where(and(inArray(s.t.machines.state, states), ownRows(s, s.t.machines.nodeId)));
}

/** How many machines each node owns (rows older than the cluster, node_id null, under `null`: the founder's). */
export async function machineCountsByNode(s: Store): Promise<Map<string | null, number>> {
  const m = s.t.machines;
  const rows = await s.db
    .select({ node: m.nodeId, n: sql<number>`count(*)` })
    .from(m)
    .groupBy(m.nodeId);
  return new Map(rows.map((r) => [r.node, Number(r.n)]));
}
