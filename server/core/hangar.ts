import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type Store } from '@/db/client';
import { createDriverRegistry } from '@/server/drivers/registry';
import type { DriverRegistry } from '@/server/drivers/types';
import { AuditLog } from './audit';
import { AuthService } from './auth';
import { UserService } from './users';
import { ShareService } from './shares';
import { GrantService } from './grants';
import { ConsoleRegistry } from './console/registry';
import { EventBus } from './events';
import { HostService } from './host';
import { ImageService } from './images';
import { JobRunner } from './jobs';
import { JobService } from './job-service';
import { MachineService } from './machines';
import { dataLayout, projectRoot } from './paths';
import { RecordingService } from './console/recordings';
import { ProbeService } from './probes';
import { RunOnceService } from './run-once';
import { StepService } from './steps/service';
import { StepRegistry } from './steps/user-steps';
import { SnapshotService } from './snapshots';
import { SettingsService } from './settings';
import { StatsService } from './stats';
import { HostUsageService } from './host-usage';

export interface CoreOptions {
  dataDir: string;
  databaseUrl?: string;
  version: string;
  /** The drivers, image recipes and host probe core reaches the host through; the real ones unless given (tests pass a fake). */
  drivers?: DriverRegistry;
}

/** Every domain service, wired once; transports (HTTP, sockets, CLI) take what they need from here. */
export interface Core {
  version: string;
  startedAt: number;
  layout: ReturnType<typeof dataLayout>;
  store: Store;
  drivers: DriverRegistry;
  bus: EventBus;
  auth: AuthService;
  users: UserService;
  shares: ShareService;
  grants: GrantService;
  jobRunner: JobRunner;
  jobs: JobService;
  settings: SettingsService;
  audit: AuditLog;
  consoles: ConsoleRegistry;
  recordings: RecordingService;
  host: HostService;
  machines: MachineService;
  images: ImageService;
  snapshots: SnapshotService;
  probes: ProbeService;
  runs: RunOnceService;
  steps: StepService;
  stats: StatsService;
  usage: HostUsageService;
  close(): Promise<void>;
}

export async function createCore(opts: CoreOptions): Promise<Core> {
  const layout = dataLayout(opts.dataDir);
  const drivers = opts.drivers ?? createDriverRegistry();
  fs.mkdirSync(layout.root, { recursive: true, mode: 0o700 });
  const store = openDatabase({ url: opts.databaseUrl, sqlitePath: layout.db, migrationsDir: path.join(projectRoot(), 'db', 'migrations') });
  await store.migrate();
  const bus = new EventBus();
  const settings = new SettingsService(store);
  await settings.load();
  const jobs = new JobRunner(store, bus);
  await jobs.recover();
  const auth = new AuthService(store);
  const consoles = new ConsoleRegistry(settings, drivers);
  const images = new ImageService(store, jobs, bus, settings, layout, drivers);
  await images.recover();
  const host = new HostService(layout, drivers);
  const machines = new MachineService(store, jobs, bus, images, host, settings, layout, drivers);
  consoles.machines = machines;
  const recordings = new RecordingService(path.join(layout.root, 'recordings'));
  consoles.recordings = recordings;
  bus.subscribe('machine:removed', ({ id }) => recordings.removeMachine(id));
  const grants = new GrantService(store, machines, auth);
  // A user deleted (or disabled) is revoked: their machines' owner may have changed underneath the kept list.
  auth.onRevoke((r) => r.userId && !r.sessionId && machines.listing.ownerChanged(r.userId));
  consoles.accessTo = (p, id) => grants.accessTo(p, id);
  machines.onGone = (id) => consoles.closeMachine(id, 'The machine stopped.');
  const snapshots = new SnapshotService(store, jobs, bus, machines, layout);
  // Before the re-attach: a checkpoint cut off while its guest was paused resumes the machines
  // whose record says running; re-attaching first would record them paused, and they would stay so.
  await snapshots.recover();
  await machines.reattach();
  const stats = new StatsService(store, bus, machines);
  stats.start();
  return {
    version: opts.version,
    startedAt: Date.now(),
    layout,
    store,
    drivers,
    bus,
    auth,
    users: new UserService(store, auth),
    shares: new ShareService(store, auth, machines),
    grants,
    jobRunner: jobs,
    jobs: new JobService(jobs),
    settings,
    audit: new AuditLog(store),
    consoles,
    recordings,
    host,
    machines,
    images,
    snapshots,
    probes: new ProbeService(jobs, machines, path.join(layout.root, 'tmp', 'probe-uploads')),
    runs: new RunOnceService(machines, images),
    steps: new StepService(
      store,
      jobs,
      machines,
      snapshots,
      images,
      bus,
      consoles,
      () => ({ budgetMib: settings.get().stepCacheBudgetMib, maxAgeDays: settings.get().stepCacheMaxAgeDays }),
      // User steps: HANGAR_STEPS_DIR, or steps/ in the data dir.
      new StepRegistry(
        process.env.HANGAR_STEPS_DIR ? path.resolve(process.env.HANGAR_STEPS_DIR) : path.join(layout.root, 'steps'),
        path.join(layout.root, 'tmp', 'steps'),
      ),
    ),
    stats,
    usage: new HostUsageService(store, settings, stats, layout),
    async close() {
      stats.stop();
      machines.stopMonitor();
      consoles.closeAll('The Hangar server is shutting down.');
      await jobs.stopAll();
      await store.close();
    },
  };
}
