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
import { DiskImageService, importRoots } from './disk-images';
import { ImageService } from './images';
import { IsoService } from './isos/service';
import { OciImageService } from './oci-images';
import { RootfsImageService } from './rootfs-images';
import { RegistryService } from './registries';
import { ociPaths } from '@/server/drivers/oci/store';
import { JobRunner } from './jobs';
import { JobService } from './job-service';
import { MachineFiles } from './machine-files';
import { MachineDisks } from './machine-disks';
import { MachineService } from './machines';
import { dataLayout, projectRoot } from './paths';
import { RecordingService } from './console/recordings';
import { formatMarkerLabel } from '@/lib/recording-markers';
import { ProbeService } from './probes';
import { RunOnceService } from './run-once';
import { StepService } from './steps/service';
import { StepRegistry } from './steps/user-steps';
import { SnapshotService } from './snapshots';
import { DiffService } from './diff/service';
import { SettingsService } from './settings';
import { HotPool } from './hot-pool';
import { blankBoot } from './machine-admission';
import type { LimitService } from './limits';
import { SsoService } from './sso';
import { CliLoginService } from './cli-login';
import { StatsService } from './stats';
import { HostUsageService } from './host-usage';
import { WebhookService } from './webhooks/service';
import { feedWebhooks } from './webhooks/sources';
import { listMachineRows } from '@/db/repo/machines';
import { MetricsService } from './metrics';
import { ScheduleService, type ScheduleOptions } from './schedules/service';
import { deleteMachineSchedules } from '@/db/repo/schedules';
import { serverClock } from './clock';
import { UndoService } from './schedules/undo';
import { BackupService } from './backups/service';
import { ImagePublishService, keysDir } from './image-publish';
import { SshKeyService } from './ssh/keys';
import { SshAccessService } from './ssh/access';
import { ForkLinkService } from './fork-links/service';
import { DisplayService } from './display';
import type { Cluster } from './cluster/cluster';
import { startCluster, type ClusterOptions } from './cluster/start';
import { nodeStatus } from './cluster/status';
import { usageSampler } from './cluster/node-usage';
import { ReplicaService, replicaBudgetBytes, replicaRateBytes } from './cluster/replicas';
import { MoveService } from './cluster/moves';
import { imageCopyBudgetBytes, ImageCopyService } from './cluster/image-copies';

export interface CoreOptions {
  dataDir: string;
  databaseUrl?: string;
  version: string;
  /** The drivers, image recipes and host probe core reaches the host through; the real ones unless given (tests pass a fake). */
  drivers?: DriverRegistry;
  /** The schedules' clock and timer: the server's own unless given (unit tests move a clock and call tick()). */
  schedules?: ScheduleOptions;
  /** How the server is reached (for /api/health and the UI's warning banner); plain loopback HTTP unless given. */
  transport?: TransportInfo;
  /** PostgreSQL only: join a cluster, this node's name and the URL other nodes reach it at. */
  cluster?: ClusterOptions;
}

/** HTTPS, or plain HTTP and why: loopback, behind a TLS proxy, or forced beyond loopback with --insecure-http. */
export interface TransportInfo {
  scheme: 'http' | 'https';
  plainReason?: 'loopback' | 'proxy' | 'insecure';
  /** The certificate's SHA-256 fingerprint (HTTPS). */
  fingerprint256?: string;
}

/** Every domain service, wired once; transports (HTTP, sockets, CLI) take what they need from here. */
export interface Core {
  version: string;
  startedAt: number;
  transport: TransportInfo;
  layout: ReturnType<typeof dataLayout>;
  store: Store;
  /** This node in its cluster (PostgreSQL), or the solo object (SQLite: everything is local). */
  cluster: Cluster;
  drivers: DriverRegistry;
  bus: EventBus;
  auth: AuthService;
  users: UserService;
  shares: ShareService;
  forkLinks: ForkLinkService;
  grants: GrantService;
  jobRunner: JobRunner;
  jobs: JobService;
  settings: SettingsService;
  limits: LimitService;
  sso: SsoService;
  cliLogin: CliLoginService;
  audit: AuditLog;
  consoles: ConsoleRegistry;
  recordings: RecordingService;
  host: HostService;
  machines: MachineService;
  files: MachineFiles;
  disks: MachineDisks;
  images: ImageService;
  /** VM disk images (qcow2/raw) imported: kind `disk`. */
  diskImages: DiskImageService;
  isos: IsoService;
  registries: RegistryService;
  snapshots: SnapshotService;
  /** Copies of other nodes' snapshots on this one (a cluster). */
  replicas: ReplicaService;
  /** Moves of machines to other nodes (a cluster), and this node's side of moves to it. */
  moves: MoveService;
  /** Copies of images other nodes hold (a cluster). */
  imageCopies: ImageCopyService;
  diff: DiffService;
  probes: ProbeService;
  runs: RunOnceService;
  steps: StepService;
  stats: StatsService;
  usage: HostUsageService;
  webhooks: WebhookService;
  metrics: MetricsService;
  schedules: ScheduleService;
  undo: UndoService;
  backups: BackupService;
  imagePublish: ImagePublishService;
  sshKeys: SshKeyService;
  ssh: SshAccessService;
  display: DisplayService;
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
  const host = new HostService(layout, drivers);
  const heartbeatUsage = usageSampler(layout.root);
  const cluster = await startCluster({
    store,
    dataDir: layout.root,
    version: opts.version,
    bus,
    options: opts.cluster,
    status: () => nodeStatus(host, heartbeatUsage, drivers),
  });
  // A node that joined leaves the image passes to the founder (see Cluster.ownsNothingYet); the other passes see only this node's rows (db/repo/own.ts).
  const owns = !cluster.ownsNothingYet;
  // What this node inserts (machines, snapshots) is its own.
  if (cluster.enabled) store.node = { id: cluster.self.id, founder: cluster.founder };
  const jobs = new JobRunner(store, bus);
  if (cluster.enabled) jobs.node = { id: cluster.self.id, founder: cluster.founder };
  await jobs.recover();
  const auth = new AuthService(store);
  // Another node's forward names its caller, under that node's signature.
  if (cluster.enabled) auth.verifyForwarded = (r) => cluster.verify(r);
  const consoles = new ConsoleRegistry(settings, drivers);
  const registries = new RegistryService(ociPaths(layout.root), store);
  const oci = new OciImageService(store, jobs, bus, settings, ociPaths(layout.root), registries);
  // Its own store, on every node (a joined one pulls and takes copies too): nothing in it is another node's.
  oci.recover();
  // After the store's dirs exist: a node's own registries.json from before the settings were shared.
  await registries.adoptFiles();
  if (cluster.enabled) registries.follow(10_000);
  const rootfs = new RootfsImageService(store, jobs, bus, layout.images, () => settings.get().downloadAllowPrivate);
  const images = new ImageService(store, jobs, bus, settings, layout, drivers, oci, rootfs);
  // Every node: its own cut-off builds (failBuildingImages takes own rows) and its own images dir's scratch.
  await images.recover();
  if (owns) await rootfs.recover();
  const diskImages = new DiskImageService(store, jobs, bus, layout.images, importRoots(layout.root), () => settings.get().downloadAllowPrivate);
  if (owns) await diskImages.recover();
  const machines = new MachineService(store, jobs, bus, images, host, settings, layout, drivers);
  const isos = new IsoService(store, jobs, settings, layout.isos, () => machines.listing.items());
  if (owns) isos.recover();
  machines.isos = isos;
  if (cluster.enabled) {
    // Each machine shows its node, and `unknown` while that node is offline; a node going on or offline redraws the list.
    machines.views.nodeOf = (nodeId) => {
      const n = nodeId ? cluster.registry?.byId.get(nodeId) : undefined;
      return n ? { id: n.id, name: n.name, online: n.self || n.online } : null;
    };
    bus.subscribe('node:update', () => machines.listing.changedAll());
  }
  consoles.machines = machines;
  const recordings = new RecordingService(path.join(layout.root, 'recordings'));
  consoles.recordings = recordings;
  bus.subscribe('machine:removed', ({ id }) => {
    recordings.removeMachine(id);
    consoles.forgetMachine(id);
  });
  // Checkpoints, restores and forks become markers in the machine's open recordings.
  // A restore's marker also opens the restored machine's next recording (registry.markMachine says why).
  bus.subscribe('machine:moment', (m) => consoles.markMachine(m.machineId, formatMarkerLabel(m.kind, m.text, m.snapshotId), { carry: m.kind === 'restore' }));
  const grants = new GrantService(store, machines, auth);
  // A user deleted (or disabled) is revoked: their machines' owner may have changed underneath the kept list.
  auth.onRevoke((r) => r.userId && !r.sessionId && machines.listing.ownerChanged(r.userId));
  consoles.accessTo = (p, id) => grants.accessTo(p, id);
  machines.onGone = (id) => consoles.closeMachine(id, 'The machine stopped.');
  bus.subscribe('machine:update', (m) => m.state === 'running' && consoles.machineRunning(m.id));
  const clock = opts.schedules?.now ?? serverClock();
  const snapshots = new SnapshotService(store, jobs, bus, machines, layout, clock);
  // A cluster: forks here of snapshots other nodes hold use copies made here (HANGAR_REPLICA_BUDGET_GIB, HANGAR_REPLICA_RATE_MIBS).
  const replicas = new ReplicaService({
    store,
    cluster,
    dir: layout.replicas,
    archiverOf: (kind) => machines.driver(kind).archive,
    owners: machines,
    budgetBytes: replicaBudgetBytes(),
    rateBytes: replicaRateBytes(),
    now: () => Date.now(),
  });
  if (cluster.enabled) snapshots.replicas = replicas;
  // A cluster: machines here from images other nodes hold boot a copy made here (the replica rate caps it too).
  const imageCopies = new ImageCopyService({
    store,
    cluster,
    dir: layout.images,
    tmp: () => snapshots.tmpDir(),
    rateBytes: replicaRateBytes(),
    budgetBytes: imageCopyBudgetBytes(),
    now: () => Date.now(),
    oci,
  });
  if (cluster.enabled) images.copies = imageCopies;
  // A pull of an image another node pulled copies it from that node, as a create here does.
  if (cluster.enabled) oci.copyHere = (name, ctx) => images.copyHere(name, ctx);
  // Before the re-attach: a checkpoint cut off while its guest was paused resumes the machines
  // whose record says running; re-attaching first would record them paused, and they would stay so.
  // Standbys a previous run left are ended before garbage collection looks at their layers.
  const hot = new HotPool({
    store,
    driver: (k) => machines.driver(k),
    describe: (k) => machines.describe(k),
    boot: (image) => (image ? images.files(image) : Promise.resolve(blankBoot())),
    host: () => host.info(),
    size: () => settings.get().hotStandbys,
    roomFor: (mib) => machines.preflight(null, mib, []),
    dirs: { root: layout.root, machines: layout.machines, layers: layout.layers },
    now: () => Date.now(),
    changed: (id) => bus.publish('snapshots:changed', { id }),
  });
  snapshots.hot = hot;
  // A new K takes effect at once (more standbys start, or the extra ones end).
  settings.onChange = () => void hot.kick();
  machines.standbyMib = () => hot.reservedMib();
  await hot.start(opts.schedules?.timer ?? true);
  await snapshots.recover();
  replicas.start();
  imageCopies.start();
  await machines.reattach();
  const stats = new StatsService(store, bus, machines);
  // User steps: HANGAR_STEPS_DIR, or steps/ in the data dir.
  const userSteps = new StepRegistry(
    process.env.HANGAR_STEPS_DIR ? path.resolve(process.env.HANGAR_STEPS_DIR) : path.join(layout.root, 'steps'),
    path.join(layout.root, 'tmp', 'steps'),
  );
  stats.start();
  const audit = new AuditLog(store);
  const webhooks = new WebhookService(store, settings, {
    // Tests shorten the waits between attempts and the time a receiver is given.
    backoffMs: Number(process.env.HANGAR_WEBHOOK_BACKOFF_MS) || undefined,
    timeoutMs: Number(process.env.HANGAR_WEBHOOK_TIMEOUT_MS) || undefined,
  });
  await webhooks.load();
  const stopFeeding = feedWebhooks(webhooks, bus, audit, await listMachineRows(store));
  const metrics = new MetricsService(store, bus, stats, () => machines.listing.items());
  metrics.webhooksQueued = () => webhooks.queued;
  await metrics.loadToken();
  const backups = new BackupService(store, jobs, machines, snapshots, layout.root);
  const schedules = new ScheduleService(store, jobs, machines, snapshots, { ...(opts.schedules ?? { timer: true }), now: clock });
  schedules.backups = backups;
  bus.subscribe('machine:removed', ({ id }) => void deleteMachineSchedules(store, id).catch(() => undefined));
  // Runs missed while the server was down: each due schedule once, now.
  if (opts.schedules?.timer ?? true) await schedules.start();
  // Users' SSH keys go into the machines they may operate, and follow every change.
  const sshKeys = new SshKeyService(store);
  const ssh = new SshAccessService(store, machines, grants, auth, bus);
  sshKeys.onChange = () => ssh.syncAll();
  const shares = new ShareService(store, auth, machines, recordings);
  // HANGAR_CLOCK_SKEW_MS moves the fork links' clock (link expiry, fork lifetimes): tests see a lifetime end without waiting for it.
  const skewMs = Number(process.env.HANGAR_CLOCK_SKEW_MS) || 0;
  const forkLinks = new ForkLinkService({ store, jobs, machines, snapshots, shares, now: () => Date.now() + skewMs });
  if (opts.schedules?.timer ?? true) forkLinks.start();
  return {
    version: opts.version,
    startedAt: Date.now(),
    transport: opts.transport ?? { scheme: 'http', plainReason: 'loopback' },
    layout,
    store,
    cluster,
    drivers,
    bus,
    auth,
    users: new UserService(store, auth),
    shares,
    forkLinks,
    grants,
    jobRunner: jobs,
    jobs: new JobService(jobs),
    settings,
    limits: machines.limits,
    sso: new SsoService(store, auth, settings),
    cliLogin: new CliLoginService(auth),
    audit,
    consoles,
    recordings,
    host,
    machines,
    files: new MachineFiles(machines),
    disks: new MachineDisks(machines),
    images,
    diskImages,
    isos,
    registries,
    snapshots,
    replicas,
    moves: new MoveService({
      store,
      cluster,
      machines,
      images,
      host,
      dirs: { machines: layout.machines, layers: layout.layers, moves: path.join(layout.root, 'moves') },
    }),
    imageCopies,
    diff: new DiffService(snapshots, machines),
    probes: new ProbeService(
      jobs,
      machines,
      path.join(layout.root, 'tmp', 'probe-uploads'),
      async (name) => (await images.list()).find((i) => i.name === name)?.kind ?? null,
    ),
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
      userSteps,
    ),
    stats,
    usage: new HostUsageService(store, settings, stats, layout),
    webhooks,
    metrics,
    schedules,
    undo: new UndoService(store, schedules, snapshots, clock),
    backups,
    imagePublish: new ImagePublishService(store, jobs, bus, settings, backups.targets, { images: layout.images, keys: keysDir(layout.root) }),
    sshKeys,
    ssh,
    display: new DisplayService(machines, grants, auth),
    async close() {
      await cluster.close();
      replicas.stop();
      imageCopies.stop();
      registries.stop();
      ssh.close();
      schedules.stop();
      forkLinks.stop();
      await hot.stop();
      stats.stop();
      stopFeeding();
      webhooks.stop();
      machines.stopMonitor();
      consoles.closeAll('The Hangar server is shutting down.');
      await jobs.stopAll();
      userSteps.close();
      await store.close();
    },
  };
}
