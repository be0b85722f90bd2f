import os from 'node:os';
import type { PortForward } from '@/lib/contracts/machines';
import { loopbackPortFree } from '@/server/drivers/net';
import { ConflictError } from './errors';

/** Refuse to start when running machines plus this one would take more than `limit` of host memory. */
export function checkMemory(wantMib: number, runningMib: number, limit: number, totalMib = os.totalmem() / 1048576): void {
  const cap = Math.floor(totalMib * limit);
  if (runningMib + wantMib > cap) {
    throw new ConflictError(
      `Not enough host memory: running machines use ${runningMib} MiB, this one needs ${wantMib} MiB, and the limit is ${cap} MiB (${Math.round(limit * 100)}% of ${Math.round(totalMib)} MiB). Stop a machine or raise the limit in Settings.`,
    );
  }
}

/** Host ports must be free before QEMU tries to bind them (its error would come after a slow start). */
export async function checkPortsFree(ports: PortForward[]): Promise<void> {
  for (const p of ports.filter((x) => x.protocol === 'tcp')) {
    if (!(await loopbackPortFree(p.host))) throw new ConflictError(`Host port ${p.host} is already in use.`);
  }
}
