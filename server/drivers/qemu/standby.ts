import fs from 'node:fs';
import type { HostInfo } from '@/lib/contracts/host';
import type { BootFiles, DriverResult, HotStandbyOps, MachineDriver, MachineSpec, SnapshotSource, StartFrom } from '../types';
import { machineFiles } from './argv';
import { isQemuPid, qemuRuntime } from './runtime';
import { incoming, snapshotFiles } from './snapshot';

/** The record is a standby's and its process still waits. */
export const isStandby = (m: MachineSpec): boolean => {
  const rt = qemuRuntime(m.runtime);
  return rt.standby === true && isQemuPid(rt.pid);
};

/** What a process holds resident (VmRSS), in bytes; 0 once gone. */
export function residentBytes(pid: unknown): number {
  if (typeof pid !== 'number') return 0;
  try {
    const kib = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return kib ? Number(kib) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * A hot snapshot's standby: the fork's layer, MAC and identity as branch() makes them, and its
 * qemu started as a fork's is (`-incoming defer`, the snapshot's RAM file mapped privately),
 * stopped short of loading the state. The fork's start() only sends the device state.
 */
export function qemuStandby(driver: Pick<MachineDriver, 'branch' | 'start'>): HotStandbyOps {
  return {
    async prepare(snap: SnapshotSource, m: MachineSpec, image: BootFiles, host: HostInfo) {
      const [runtime] = await driver.branch(snap, [m], 'fork');
      const spec = { ...m, runtime };
      const started = await driver.start(spec, image, { host, from: { dir: snap.dir, banner: 'forked from a hot snapshot', standby: true } });
      return { ...runtime, ...started.runtime };
    },
    alive: isStandby,
    residentBytes: (m) => residentBytes(qemuRuntime(m.runtime).pid),
  };
}

/** The fork takes its standby: load the device state (and RAM the stream carries) into the waiting process, and run. */
export async function adoptStandby(m: MachineSpec, from: StartFrom): Promise<DriverResult> {
  const rt = qemuRuntime(m.runtime);
  from.phases?.mark('spawn');
  await incoming(machineFiles(m.dir).qmpSock, snapshotFiles(from.dir).state, from.phases).catch((err: Error) => {
    throw new Error(isQemuPid(rt.pid) ? `loading the snapshot failed: ${err.message}` : `qemu exited while loading the snapshot's state (${err.message})`);
  });
  return { runtime: { ...m.runtime, standby: false }, log: [`qemu pid ${rt.pid} started ahead (hot snapshot): only the state loaded`] };
}
