import { asc, eq } from 'drizzle-orm';
import type { Machine } from '@/lib/contracts/machines';
import type { Store } from '../client';

type MachineRow = Store['t']['machines']['$inferSelect'];

export function toMachine(r: MachineRow): Machine {
  return {
    id: r.id, name: r.name, driver: r.driver, image: r.image, state: r.state, stateReason: r.stateReason,
    cpus: r.cpus, memoryMib: r.memoryMib, diskGib: r.diskGib, ports: JSON.parse(r.portsJson), ownerId: r.ownerId,
    createdAt: r.createdAt, updatedAt: r.updatedAt,
  };
}

export async function listMachines(s: Store): Promise<Machine[]> {
  const rows = await s.db.select().from(s.t.machines).orderBy(asc(s.t.machines.name));
  return rows.map(toMachine);
}

export async function getMachine(s: Store, id: string): Promise<Machine | undefined> {
  const [row] = await s.db.select().from(s.t.machines).where(eq(s.t.machines.id, id)).limit(1);
  return row ? toMachine(row) : undefined;
}

export async function insertMachine(s: Store, m: Machine): Promise<Machine> {
  const [row] = await s.db
    .insert(s.t.machines)
    .values({
      id: m.id, name: m.name, driver: m.driver, image: m.image, state: m.state, stateReason: m.stateReason, cpus: m.cpus,
      memoryMib: m.memoryMib, diskGib: m.diskGib, portsJson: JSON.stringify(m.ports), ownerId: m.ownerId,
      createdAt: m.createdAt, updatedAt: m.updatedAt,
    })
    .returning();
  return toMachine(row);
}
