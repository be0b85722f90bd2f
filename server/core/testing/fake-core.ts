import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Job } from '@/lib/contracts/jobs';
import type { CreateMachineBody } from '@/lib/contracts/machines';
import type { Role } from '@/lib/roles';
import { insertUser } from '@/db/repo/users';
import { fakeRegistry, type FakeRegistry } from '@/server/drivers/fake/registry';
import type { HostInfo } from '@/lib/contracts/host';
import type { Principal } from '../auth';
import { createCore, type Core } from '../hangar';
import { newId } from '../ids';
import type { ScheduleOptions } from '../schedules/service';

/** A create body with the fields a test cares about; the rest as the API defaults them (a small busybox VM, started). */
export const createBody = (b: Partial<CreateMachineBody> & { name: string }): CreateMachineBody => ({
  image: 'busybox',
  driver: 'qemu',
  cpus: 1,
  memoryMib: 64,
  diskGib: 2,
  ports: [],
  start: true,
  network: 'private',
  tags: [],
  ...b,
});

export interface FakeCore {
  core: Core;
  drivers: FakeRegistry;
  dataDir: string;
  /** An admin, and a caller with any role. */
  admin: Principal;
  as(role: Role, username?: string): Promise<Principal>;
  /** Wait for a job to end; throws with its error when it failed. */
  done(job: Job): Promise<Job>;
  /** Stop the core and start a new one on the same data dir and drivers (a server restart). */
  restart(schedules?: ScheduleOptions): Promise<Core>;
  close(): Promise<void>;
}

/**
 * The real core (services, jobs, locks, a real SQLite file in a temp dir) on the fake driver
 * registry: no QEMU, nspawn or podman, no host tool. Images build at once (fake recipes).
 */
export async function fakeCore(
  opts: { host?: HostInfo; images?: ('busybox' | 'debian-12' | 'debian-13')[]; schedules?: ScheduleOptions } = {},
): Promise<FakeCore> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-'));
  const drivers = fakeRegistry({ host: opts.host });
  const core = await createCore({ dataDir, version: 'test', drivers, schedules: opts.schedules });
  // The core of now: restart() replaces it.
  let cur = core;
  const as = async (role: Role, username = `${role}-${newId('usr').slice(4, 12)}`): Promise<Principal> => {
    const user = await insertUser(cur.store, { id: newId('usr'), username, passwordHash: 'x', role, now: Date.now() });
    return { user, role, via: 'session' };
  };
  const done = async (job: Job): Promise<Job> => {
    const j = await cur.jobRunner.waitFor(job, { jobId: 'test', signal: new AbortController().signal });
    if (j.state !== 'succeeded') throw new Error(`${j.title}: ${j.state}: ${j.error}`);
    return j;
  };
  const admin = await as('admin', 'admin');
  for (const kind of opts.images ?? ['busybox', 'debian-12']) await done(await core.images.build(admin, { kind }));
  const f: FakeCore = {
    core,
    drivers,
    dataDir,
    admin,
    as,
    done,
    async restart(schedules) {
      await f.core.close();
      f.core = cur = await createCore({ dataDir, version: 'test', drivers, schedules });
      return cur;
    },
    async close() {
      await f.core.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return f;
}
