import type { ApiClient } from './api-client';

/** Page sizes where lists can be long: the jobs page and the snapshot tree fetch in pages of these. */
export const JOB_PAGE = 50;
export const SNAPSHOT_PAGE = 200;

/** Query keys in one place: mutations and socket events invalidate through these, never literals. */
export const keys = {
  me: () => ['me'] as const,
  health: () => ['health'] as const,
  signInOptions: () => ['sign-in-options'] as const,
  ssoProviders: () => ['sso-providers'] as const,
  machines: () => ['machines'] as const,
  machine: (id: string) => ['machines', id] as const,
  jobs: () => ['jobs'] as const,
  /** The jobs page: newest first, a page at a time (an infinite query). */
  jobPages: () => ['jobs', 'pages'] as const,
  job: (id: string) => ['jobs', id] as const,
  jobLogs: (id: string) => ['jobs', id, 'logs'] as const,
  images: () => ['images'] as const,
  isos: () => ['isos'] as const,
  snapshots: () => ['snapshots'] as const,
  /** The snapshot tree, fetched a page at a time (an infinite query; parents come before their children). */
  snapshotPages: () => ['snapshots', 'pages'] as const,
  /** Under snapshots: a run's new snapshot (snapshots:changed) refreshes its last run too. */
  machineSchedules: (id: string) => ['snapshots', 'schedules', id] as const,
  machineUndo: (id: string) => ['snapshots', 'undo', id] as const,
  /** Two snapshots compared (path: one file's text diff). Under snapshots: a changed tree refreshes it. */
  snapshotDiff: (a: string, b: string, path = '') => ['snapshots', 'diff', a, b, path] as const,
  /** A machine's files now against the snapshot it runs on (path: one file's text diff). */
  machineDiff: (ref: string, path = '') => ['snapshots', 'diff', 'machine', ref, path] as const,
  steps: () => ['steps'] as const,
  stepCatalog: () => ['steps', 'catalog'] as const,
  host: () => ['host'] as const,
  drivers: () => ['drivers'] as const,
  hostUsage: () => ['host', 'usage'] as const,
  settings: () => ['settings'] as const,
  tokens: () => ['tokens'] as const,
  sshKeys: () => ['ssh-keys'] as const,
  webhooks: () => ['webhooks'] as const,
  backupTargets: () => ['backups', 'targets'] as const,
  backups: (target: string) => ['backups', 'list', target] as const,
  webhookDeliveries: (id: string) => ['webhooks', id, 'deliveries'] as const,
  scrapeToken: () => ['metrics', 'token'] as const,
  users: () => ['users'] as const,
  /** Under users: a user's change (role) refreshes the limits shown with it. */
  userLimits: () => ['users', 'limits'] as const,
  myLimits: () => ['me', 'limits'] as const,
  sessions: () => ['sessions'] as const,
  shares: (machineId: string) => ['shares', machineId] as const,
  /** Under the machine: its updates refresh its disks too. */
  machineDisks: (machineId: string) => ['machines', machineId, 'disks'] as const,
  forkLinks: () => ['forkLinks'] as const,
  /** Under forkLinks: a link's change (revoke, an action on a fork) refreshes its forks. */
  forkLinkForks: (linkId: string) => ['forkLinks', linkId, 'forks'] as const,
  access: (machineId: string) => ['access', machineId] as const,
  recordings: (machineId: string) => ['recordings', machineId] as const,
  /** Under recordings: refetched with the list (a recording being written gains markers). */
  recordingMarkers: (machineId: string, id: string) => ['recordings', machineId, id, 'markers'] as const,
  prefs: () => ['prefs'] as const,
  nodes: () => ['nodes'] as const,
  /** Under nodes: a node's change refreshes the open join tokens too. */
  joinTokens: () => ['nodes', 'join-tokens'] as const,
  grants: (machineId: string) => ['grants', machineId] as const,
  audit: (f: object) => ['audit', f] as const,
};

/** Query factories: key + fetcher pairs for useQuery. */
export function queries(api: ApiClient) {
  return {
    me: () => ({ queryKey: keys.me(), queryFn: () => api.auth.me(), retry: false }),
    /** How the server is reached (HTTPS or plain HTTP and why): fixed while it runs. */
    health: () => ({ queryKey: keys.health(), queryFn: () => api.health(), staleTime: Infinity }),
    signInOptions: () => ({ queryKey: keys.signInOptions(), queryFn: () => api.sso.options() }),
    ssoProviders: () => ({ queryKey: keys.ssoProviders(), queryFn: async () => (await api.sso.list()).items }),
    machines: () => ({ queryKey: keys.machines(), queryFn: async () => (await api.machines.list()).items }),
    machine: (ref: string) => ({ queryKey: keys.machine(ref), queryFn: () => api.machines.get(ref) }),
    jobs: () => ({ queryKey: keys.jobs(), queryFn: async () => (await api.jobs.list({ limit: 100 })).items }),
    jobPages: () => ({
      queryKey: keys.jobPages(),
      queryFn: ({ pageParam }: { pageParam: string | null }) => api.jobs.list({ limit: JOB_PAGE, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last: { next: string | null }) => last.next,
    }),
    jobLogs: (id: string) => ({ queryKey: keys.jobLogs(id), queryFn: async () => (await api.jobs.logs(id)).items }),
    images: () => ({ queryKey: keys.images(), queryFn: async () => (await api.images.list()).items }),
    isos: () => ({ queryKey: keys.isos(), queryFn: async () => (await api.isos.list()).items }),
    snapshots: () => ({ queryKey: keys.snapshots(), queryFn: async () => (await api.snapshots.list()).items }),
    snapshotDiff: (a: string, b: string, path?: string) => ({
      queryKey: keys.snapshotDiff(a, b, path),
      queryFn: () => api.snapshots.diff(a, b, path ? { path } : {}),
      staleTime: 60_000,
      retry: false,
    }),
    machineDiff: (ref: string, path?: string) => ({
      queryKey: keys.machineDiff(ref, path),
      queryFn: () => api.snapshots.diffMachine(ref, path ? { path } : {}),
      retry: false,
    }),
    snapshotPages: () => ({
      queryKey: keys.snapshotPages(),
      queryFn: ({ pageParam }: { pageParam: string | null }) => api.snapshots.list({ limit: SNAPSHOT_PAGE, ...(pageParam ? { cursor: pageParam } : {}) }),
      initialPageParam: null as string | null,
      getNextPageParam: (last: { next: string | null }) => last.next,
    }),
    machineSchedules: (id: string) => ({ queryKey: keys.machineSchedules(id), queryFn: async () => (await api.schedules.ofMachine(id)).items }),
    machineUndo: (id: string) => ({ queryKey: keys.machineUndo(id), queryFn: () => api.undo.get(id) }),
    steps: () => ({ queryKey: keys.steps(), queryFn: async () => (await api.steps.nodes()).items }),
    stepCatalog: () => ({ queryKey: keys.stepCatalog(), queryFn: async () => (await api.steps.catalog()).items, staleTime: Infinity }),
    host: () => ({ queryKey: keys.host(), queryFn: () => api.host.get(), staleTime: 60_000 }),
    drivers: () => ({ queryKey: keys.drivers(), queryFn: async () => (await api.drivers.list()).items, staleTime: 60_000 }),
    hostUsage: () => ({ queryKey: keys.hostUsage(), queryFn: () => api.stats.host(), refetchInterval: 15_000 }),
    settings: () => ({ queryKey: keys.settings(), queryFn: () => api.settings.get() }),
    tokens: () => ({ queryKey: keys.tokens(), queryFn: async () => (await api.tokens.list()).items }),
    sshKeys: () => ({ queryKey: keys.sshKeys(), queryFn: async () => (await api.sshKeys.list()).items }),
    webhooks: () => ({ queryKey: keys.webhooks(), queryFn: async () => (await api.webhooks.list()).items }),
    backupTargets: () => ({ queryKey: keys.backupTargets(), queryFn: async () => (await api.backups.targets()).items }),
    backups: (target: string) => ({ queryKey: keys.backups(target), queryFn: async () => (await api.backups.list(target, { limit: 200 })).items }),
    webhookDeliveries: (id: string) => ({
      queryKey: keys.webhookDeliveries(id),
      queryFn: async () => (await api.webhooks.deliveries(id, { limit: 20 })).items,
    }),
    scrapeToken: () => ({ queryKey: keys.scrapeToken(), queryFn: () => api.metrics.tokenInfo() }),
    users: () => ({ queryKey: keys.users(), queryFn: async () => (await api.users.list()).items }),
    userLimits: () => ({ queryKey: keys.userLimits(), queryFn: async () => (await api.limits.list()).items }),
    myLimits: () => ({ queryKey: keys.myLimits(), queryFn: () => api.limits.mine() }),
    access: (ref: string) => ({ queryKey: keys.access(ref), queryFn: () => api.grants.mine(ref) }),
    recordings: (ref: string) => ({ queryKey: keys.recordings(ref), queryFn: () => api.machines.recordings(ref) }),
    recordingMarkers: (ref: string, id: string) => ({ queryKey: keys.recordingMarkers(ref, id), queryFn: () => api.machines.recordingMarkers(ref, id) }),
    machineDisks: (id: string) => ({ queryKey: keys.machineDisks(id), queryFn: async () => (await api.machines.disks.list(id)).items }),
    prefs: () => ({ queryKey: keys.prefs(), queryFn: () => api.auth.prefs() }),
    nodes: () => ({ queryKey: keys.nodes(), queryFn: async () => (await api.nodes.list()).items, refetchInterval: 5_000 }),
    joinTokens: () => ({ queryKey: keys.joinTokens(), queryFn: async () => (await api.nodes.tokens()).items }),
    sessions: () => ({ queryKey: keys.sessions(), queryFn: async () => (await api.auth.sessions()).items }),
  };
}
