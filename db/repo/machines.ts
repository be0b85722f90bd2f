import { asc, eq, inArray, sql } from 'drizzle-orm';
import type { Machine } from '@/lib/contracts/machines';
import type { Store } from '../client';
import { prepared } from './prepared';

export function toMachine(r: MachineRow): Machine {
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
    ...fromRuntime(r.runtimeJson),
    recordConsole: r.recordConsole,
    tags: JSON.parse(r.tagsJson),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** The driver facts the API shows: accelerator, and SSH for images with sshd. */
function fromRuntime(runtimeJson: string): Pick<Machine, 'accel' | 'ssh' | 'network' | 'address' | 'command'> {
  const rt = JSON.parse(runtimeJson) as { accel?: unknown; ssh?: unknown; sshPort?: unknown; network?: unknown; address?: unknown; command?: unknown };
  return {
    address: typeof rt.address === 'string' ? rt.address : null,
    command: Array.isArray(rt.command) && rt.command.every((a) => typeof a === 'string') ? rt.command : null,
    network: rt.network === 'private' || rt.network === 'nat' || rt.network === 'host' ? rt.network : null,
    accel: rt.accel === 'kvm' || rt.accel === 'tcg' ? rt.accel : null,
    ssh: rt.ssh === true ? { port: typeof rt.sshPort === 'number' ? rt.sshPort : null, user: 'root' } : null,
  };
}

export async function listMachines(s: Store): Promise<Machine[]> {
  const rows = await s.db.select().from(s.t.machines).orderBy(asc(s.t.machines.name));
  return rows.map(toMachine);
}

/** Every machine row, runtime included (for the files a machine uses). */
export async function listMachineRows(s: Store): Promise<MachineRow[]> {
  return s.db.select().from(s.t.machines);
}

export async function insertMachine(
  s: Store,
  m: Omit<Machine, 'accel' | 'ssh' | 'network' | 'address' | 'command' | 'snapshotId' | 'recordConsole' | 'tags'> & {
    recordConsole?: boolean;
    tags?: string[];
    snapshotId?: string | null;
    runtime?: Record<string, unknown>;
  },
): Promise<Machine> {
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
    })
    .returning();
  return toMachine(row);
}

export type MachineRow = Store['t']['machines']['$inferSelect'];
export type MachinePatch = Partial<Pick<MachineRow, 'state' | 'stateReason' | 'updatedAt' | 'snapshotId' | 'recordConsole'>> & {
  runtime?: Record<string, unknown>;
  tags?: string[];
};

export async function getMachineRow(s: Store, by: { id: string } | { name: string }): Promise<MachineRow | undefined> {
  const cond = 'id' in by ? eq(s.t.machines.id, by.id) : eq(s.t.machines.name, by.name);
  const [row] = await s.db.select().from(s.t.machines).where(cond).limit(1);
  return row;
}

/** Machines by id (the list cache re-reads the ones that changed); a missing id is left out. */
export async function getMachinesByIds(s: Store, ids: string[]): Promise<Machine[]> {
  if (ids.length === 1) {
    const q = prepared(s, 'getMachineById', () =>
      s.db
        .select()
        .from(s.t.machines)
        .where(eq(s.t.machines.id, sql.placeholder('id')))
        .prepare('getMachineById'),
    );
    return (await q.execute({ id: ids[0] })).map(toMachine);
  }
  return ids.length ? (await s.db.select().from(s.t.machines).where(inArray(s.t.machines.id, ids))).map(toMachine) : [];
}

export async function updateMachine(s: Store, id: string, patch: MachinePatch): Promise<Machine | undefined> {
  const { runtime, tags, ...rest } = patch;
  const values = {
    ...rest,
    ...(runtime === undefined ? {} : { runtimeJson: JSON.stringify(runtime) }),
    ...(tags === undefined ? {} : { tagsJson: JSON.stringify(tags) }),
  };
  const [row] = await s.db.update(s.t.machines).set(values).where(eq(s.t.machines.id, id)).returning();
  return row ? toMachine(row) : undefined;
}

export async function deleteMachine(s: Store, id: string): Promise<void> {
  await s.db.delete(s.t.machines).where(eq(s.t.machines.id, id));
}

export async function listMachineRowsInStates(s: Store, states: Machine['state'][]): Promise<MachineRow[]> {
  return s.db.select().from(s.t.machines).where(inArray(s.t.machines.state, states));
}
