import type { Machine } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { getMachine, listMachines } from '@/db/repo/machines';
import type { Principal } from './auth';
import { NotFoundError } from './errors';

/** Machines as the API sees them. Drivers plug in with the QEMU and container issues. */
export class MachineService {
  constructor(private readonly store: Store) {}

  list(_p: Principal): Promise<Machine[]> {
    return listMachines(this.store);
  }

  async get(_p: Principal, id: string): Promise<Machine> {
    const m = await getMachine(this.store, id);
    if (!m) throw new NotFoundError('Machine');
    return m;
  }
}
