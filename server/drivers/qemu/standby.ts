import fs from 'node:fs';
import type { HostInfo } from '@/lib/contracts/host';
import type { BootFiles, DriverResult, HotStandbyOps, MachineDriver, MachineSpec, SnapshotSource, StartFrom } from '../types';
import { machineFiles } from './argv';
import { isQemuPid, qemuRuntime } from './runtime';
import { Qmp } from './qmp';
import { incoming, runLoaded, snapshotFiles } from './snapshot';

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
 * with the device state loaded ahead and the guest left paused: the fork's start() only
 * continues it (`cont`), then the fork's fix-ups run as for any fork.
 */
export function qemuStandby(driver: Pick<MachineDriver, 'branch' | 'start'>): HotStandbyOps {
  return {
    async prepare(snap: SnapshotSource, m: MachineSpec, image: BootFiles, host: HostInfo) {
      const [runtime] = await driver.branch(snap, [m], 'fork');
      const spec = { ...m, runtime };
      const started = await driver.start(spec, image, { host, from: { dir: snap.dir, banner: 'forked from a hot snapshot', standby: true } });
      const rt = { ...runtime, ...started.runtime };
      const qmpSock = machineFiles(m.dir).qmpSock;
      await incoming(qmpSock, snapshotFiles(snap.dir).state, undefined, { run: false });
      await holdQmp(qemuRuntime(rt).pid, qmpSock);
      return { ...rt, standbyLoaded: true };
    },
    alive: isStandby,
    residentBytes: (m) => residentBytes(qemuRuntime(m.runtime).pid),
  };
}

/** QMP connections to loaded standbys opened ahead, by qemu pid: the fork's `cont` is one round trip. */
const held = new Map<number, Qmp>();

async function holdQmp(pid: unknown, qmpSock: string): Promise<void> {
  // Those whose qemu ended (a standby ended) go.
  for (const [p, q] of held) if (q.closed) held.delete(p);
  if (typeof pid !== 'number') return;
  const q = await Qmp.connect(qmpSock).catch(() => null);
  if (q) held.set(pid, q);
}

/** The fork takes its standby: run the guest its state is loaded in (a standby from before that: load it first). */
export async function adoptStandby(m: MachineSpec, from: StartFrom): Promise<DriverResult> {
  const rt = qemuRuntime(m.runtime);
  const qmpSock = machineFiles(m.dir).qmpSock;
  const loaded = rt.standbyLoaded === true;
  const ahead = typeof rt.pid === 'number' ? held.get(rt.pid) : undefined;
  if (typeof rt.pid === 'number') held.delete(rt.pid);
  await (loaded ? runLoaded(qmpSock, from.phases, ahead?.closed ? undefined : ahead) : incoming(qmpSock, snapshotFiles(from.dir).state, from.phases)).catch(
    (err: Error) => {
      throw new Error(isQemuPid(rt.pid) ? `loading the snapshot failed: ${err.message}` : `qemu exited while loading the snapshot's state (${err.message})`);
    },
  );
  return {
    runtime: { ...m.runtime, standby: false, standbyLoaded: false },
    log: [`qemu pid ${rt.pid} started ahead (hot snapshot): ${loaded ? 'its state loaded ahead too, continued' : 'only the state loaded'}`],
  };
}
