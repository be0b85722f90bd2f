import { pgTable, text, bigint, integer, boolean, primaryKey, index, uniqueIndex } from 'drizzle-orm/pg-core';

// Keep in step with ./sqlite.ts: db/schema.test.ts checks both have the same tables and columns.
// Ids are text made by the app; timestamps are app-side integer milliseconds.

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['member', 'viewer', 'operator', 'admin'] }).notNull(),
    disabled: boolean('disabled').notNull().default(false),
    /** The user's own UI preferences (the console workspace layout), JSON. */
    prefsJson: text('prefs_json').notNull().default('{}'),
    /** Per-user overrides of the role's limits (machines, vCPUs, memory, disk), JSON; a key absent: the role's. */
    limitsJson: text('limits_json').notNull().default('{}'),
    /** A user made by single sign-on: the provider's id and the subject it names the person by. */
    oidcProvider: text('oidc_provider'),
    oidcSubject: text('oidc_subject'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('users_oidc_idx').on(t.oidcProvider, t.oidcSubject)],
);

export const sessions = pgTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    lastSeenAt: bigint('last_seen_at', { mode: 'number' }).notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const apiTokens = pgTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    role: text('role', { enum: ['member', 'viewer', 'operator', 'admin'] }).notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }),
    expiresAt: bigint('expires_at', { mode: 'number' }),
    revokedAt: bigint('revoked_at', { mode: 'number' }),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

export const machines = pgTable('machines', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  driver: text('driver', { enum: ['qemu', 'nspawn', 'podman', 'ssh'] }).notNull(),
  image: text('image').notNull(),
  state: text('state', { enum: ['creating', 'stopped', 'starting', 'running', 'paused', 'stopping', 'failed'] }).notNull(),
  stateReason: text('state_reason'),
  cpus: bigint('cpus', { mode: 'number' }).notNull(),
  memoryMib: bigint('memory_mib', { mode: 'number' }).notNull(),
  diskGib: bigint('disk_gib', { mode: 'number' }).notNull(),
  portsJson: text('ports_json').notNull().default('[]'),
  ownerId: text('owner_id').references(() => users.id, { onDelete: 'set null' }),
  snapshotId: text('snapshot_id'),
  runtimeJson: text('runtime_json').notNull().default('{}'),
  /** Console sessions of this machine are recorded (asciicast). */
  recordConsole: boolean('record_console').notNull().default(false),
  /** Labels for filtering the machine list (a JSON array of tag strings). */
  tagsJson: text('tags_json').notNull().default('[]'),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  /** The node that runs it (a cluster); null on one node and for rows older than the cluster (the founder's). */
  nodeId: text('node_id'),
});

export const snapshots = pgTable(
  'snapshots',
  {
    id: text('id').primaryKey(),
    parentId: text('parent_id'),
    machineId: text('machine_id'),
    kind: text('kind', { enum: ['live', 'disk'] }).notNull(),
    label: text('label').notNull(),
    state: text('state', { enum: ['pending', 'complete', 'failed'] }).notNull(),
    sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
    pauseMs: bigint('pause_ms', { mode: 'number' }),
    /** What a restore or fork needs to start it again: driver, image, and the machine's shape when it was taken. */
    driver: text('driver', { enum: ['qemu', 'nspawn', 'podman', 'ssh'] })
      .notNull()
      .default('qemu'),
    image: text('image').notNull().default(''),
    specJson: text('spec_json').notNull().default('{}'),
    /** The frozen disk layer (qcow2) this snapshot owns; its backing chain runs through its ancestors' layers. */
    diskPath: text('disk_path').notNull().default(''),
    path: text('path').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    /** The schedule that took it (its retention may prune it); null when taken by hand or by a step. */
    scheduleId: text('schedule_id'),
    /** A point of its machine's undo ring (taken by its undo schedule, pruned as the ring turns). */
    undoPoint: boolean('undo_point').notNull().default(false),
    /** Kept hot: forks of it take a QEMU process started ahead (see server/core/hot-pool.ts). */
    hot: boolean('hot').notNull().default(false),
    /** The node that holds its files (a cluster); null on one node and for rows older than the cluster (the founder's). */
    nodeId: text('node_id'),
  },
  (t) => [index('snapshots_parent_idx').on(t.parentId)],
);

/**
 * The step cache: one node per step result, keyed by hash(parent key, step, version, canonical
 * args, content of local files read); its machine state is a snapshot. Roots are base images.
 */
export const stepNodes = pgTable(
  'step_nodes',
  {
    key: text('key').primaryKey(),
    parentKey: text('parent_key'),
    step: text('step').notNull(),
    version: text('version').notNull(),
    argsJson: text('args_json').notNull().default('{}'),
    image: text('image').notNull(),
    driver: text('driver', { enum: ['qemu', 'nspawn', 'podman', 'ssh'] }).notNull(),
    snapshotId: text('snapshot_id'),
    /** How long the step took to build: what a cache hit saves. */
    durationMs: bigint('duration_ms', { mode: 'number' }).notNull().default(0),
    hits: bigint('hits', { mode: 'number' }).notNull().default(0),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }).notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [index('step_nodes_parent_idx').on(t.parentKey)],
);

export const images = pgTable('images', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull(),
  state: text('state', { enum: ['building', 'ready', 'failed'] }).notNull(),
  sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull().default(0),
  recipeJson: text('recipe_json').notNull().default('{}'),
  path: text('path').notNull(),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  /** The cluster node whose data dir holds it (null on one node, and for images older than the cluster: the founder's). */
  nodeId: text('node_id'),
});

export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    state: text('state', { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] }).notNull(),
    progress: bigint('progress', { mode: 'number' }).notNull().default(0),
    message: text('message').notNull().default(''),
    error: text('error'),
    resultJson: text('result_json'),
    ownerId: text('owner_id').references(() => users.id, { onDelete: 'set null' }),
    machineId: text('machine_id'),
    /** The job that started this one (null: a person did). */
    parentId: text('parent_id'),
    /** The node that runs it (null: the founding node, for rows older than clusters). */
    nodeId: text('node_id'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    startedAt: bigint('started_at', { mode: 'number' }),
    finishedAt: bigint('finished_at', { mode: 'number' }),
  },
  (t) => [index('jobs_created_idx').on(t.createdAt), index('jobs_parent_idx').on(t.parentId)],
);

export const jobLogs = pgTable(
  'job_logs',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    line: text('line').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

export const shareLinks = pgTable('share_links', {
  id: text('id').primaryKey(),
  machineId: text('machine_id').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  role: text('role', { enum: ['viewer', 'operator', 'admin'] }).notNull(),
  label: text('label'),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  revokedAt: bigint('revoked_at', { mode: 'number' }),
  lastUsedAt: bigint('last_used_at', { mode: 'number' }),
  /** A recording link: it opens this one recording of the machine (its cast and markers), nothing else. */
  recordingId: text('recording_id'),
});

export const auditEvents = pgTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    ts: bigint('ts', { mode: 'number' }).notNull(),
    actorKind: text('actor_kind', { enum: ['user', 'token', 'share', 'system', 'anonymous'] }).notNull(),
    actorId: text('actor_id'),
    actorName: text('actor_name'),
    action: text('action').notNull(),
    targetKind: text('target_kind'),
    targetId: text('target_id'),
    ip: text('ip'),
    detailJson: text('detail_json').notNull().default('{}'),
  },
  (t) => [index('audit_ts_idx').on(t.ts)],
);

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  valueJson: text('value_json').notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});

/** Per-machine roles: a teammate given one machine (owner: may also share it and grant it; operator; viewer). */
export const machineGrants = pgTable(
  'machine_grants',
  {
    machineId: text('machine_id')
      .notNull()
      .references(() => machines.id, { onDelete: 'cascade' }),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    role: text('role', { enum: ['owner', 'operator', 'viewer'] }).notNull(),
    createdBy: text('created_by'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.machineId, t.userId] }), index('machine_grants_user_idx').on(t.userId)],
);

/** Webhooks: where to send which events, signed with `secret` (kept here: signing needs it; never returned after creation). */
export const webhooks = pgTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  eventsJson: text('events_json').notNull(),
  secret: text('secret').notNull(),
  description: text('description'),
  enabled: boolean('enabled').notNull().default(true),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});

/** A webhook's recent deliveries (the last few are kept per webhook), with the body sent, for redelivery. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    body: text('body').notNull(),
    state: text('state', { enum: ['pending', 'retrying', 'succeeded', 'failed'] }).notNull(),
    attempts: bigint('attempts', { mode: 'number' }).notNull().default(0),
    responseCode: bigint('response_code', { mode: 'number' }),
    durationMs: bigint('duration_ms', { mode: 'number' }),
    error: text('error'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastAttemptAt: bigint('last_attempt_at', { mode: 'number' }),
    nextAttemptAt: bigint('next_attempt_at', { mode: 'number' }),
    redeliveryOf: text('redelivery_of'),
  },
  (t) => [index('webhook_deliveries_hook_idx').on(t.webhookId, t.createdAt)],
);

/** Snapshot schedules: a cron in a time zone for one machine or every machine with a tag, and the retention of what it took. */
export const schedules = pgTable('schedules', {
  id: text('id').primaryKey(),
  machineId: text('machine_id'),
  tag: text('tag'),
  cron: text('cron').notNull(),
  timeZone: text('time_zone').notNull(),
  keepJson: text('keep_json').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
  nextRunAt: bigint('next_run_at', { mode: 'number' }),
  lastRunAt: bigint('last_run_at', { mode: 'number' }),
  lastStatus: text('last_status', { enum: ['running', 'succeeded', 'failed'] }),
  lastJobId: text('last_job_id'),
  lastError: text('last_error'),
  /** After each checkpoint: back it up to this target, keeping the schedule's last `backupKeep` backups there. */
  backupTargetId: text('backup_target_id'),
  backupKeep: integer('backup_keep'),
  /** 'snapshot': cron and retention; 'undo': a machine's undo ring, a checkpoint every `everyMs`, keeping the last N. */
  kind: text('kind', { enum: ['snapshot', 'undo'] })
    .notNull()
    .default('snapshot'),
  everyMs: bigint('every_ms', { mode: 'number' }),
});

/** Where backups go: an S3-compatible bucket or a host directory. `secret` (the S3 secret key) is the server's: never returned. */
export const backupTargets = pgTable('backup_targets', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: ['s3', 'dir'] }).notNull(),
  configJson: text('config_json').notNull(),
  secret: text('secret'),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});

/** OpenID Connect providers people may sign in with. The client secret never leaves the server (no API returns it). */
export const signInProviders = pgTable('sign_in_providers', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  issuer: text('issuer').notNull(),
  clientId: text('client_id').notNull(),
  clientSecret: text('client_secret').notNull(),
  scopes: text('scopes').notNull(),
  roleClaim: text('role_claim').notNull(),
  roleMapJson: text('role_map_json').notNull(),
  allowedDomainsJson: text('allowed_domains_json').notNull(),
  enabled: boolean('enabled').notNull().default(true),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});

/** Users' SSH public keys: put into the authorized_keys of the machines they may operate. */
export const sshKeys = pgTable(
  'ssh_keys',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    type: text('type').notNull(),
    bits: integer('bits'),
    fingerprint: text('fingerprint').notNull(),
    publicKey: text('public_key').notNull(),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  },
  (t) => [uniqueIndex('ssh_keys_user_fingerprint_idx').on(t.userId, t.fingerprint)],
);

/** Fork links: each opener gets a private fork of the snapshot; `used` is reserved by one conditional UPDATE (used < max_forks). */
export const forkLinks = pgTable('fork_links', {
  id: text('id').primaryKey(),
  snapshotId: text('snapshot_id').notNull(),
  machineId: text('machine_id'),
  tokenHash: text('token_hash').notNull().unique(),
  label: text('label'),
  maxForks: integer('max_forks').notNull(),
  used: integer('used').notNull(),
  lifetimeS: integer('lifetime_s').notNull(),
  cpus: integer('cpus'),
  memoryMib: integer('memory_mib'),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  revokedAt: bigint('revoked_at', { mode: 'number' }),
});

/** The forks made through a link: stored, so their lifetimes hold across restarts. */
export const forkLinkForks = pgTable(
  'fork_link_forks',
  {
    id: text('id').primaryKey(),
    linkId: text('link_id').notNull(),
    machineId: text('machine_id'),
    shareId: text('share_id'),
    state: text('state', { enum: ['starting', 'running', 'failed', 'destroyed', 'adopted'] }).notNull(),
    reason: text('reason'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
    endedAt: bigint('ended_at', { mode: 'number' }),
  },
  (t) => [index('fork_link_forks_link_idx').on(t.linkId)],
);

/** The ISO library: installer images kept under the data dir (isos/<name>), checked ISO 9660 or UDF before they are kept. */
export const isos = pgTable('isos', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  sizeBytes: bigint('size_bytes', { mode: 'number' }).notNull(),
  format: text('format', { enum: ['iso9660', 'udf'] }).notNull(),
  /** Where it came from: `upload:<file name>` or the URL. */
  source: text('source').notNull(),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
});

/** Cluster nodes (PostgreSQL only in practice): one Hangar server each; heartbeat_at is written with the database's clock. */
export const nodes = pgTable('nodes', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  internalUrl: text('internal_url').notNull(),
  version: text('version').notNull(),
  /** Ed25519 SPKI PEM: other nodes verify this node's signed calls with it (the database holds no shared secret). */
  publicKey: text('public_key').notNull(),
  state: text('state', { enum: ['active', 'draining'] })
    .notNull()
    .default('active'),
  capabilitiesJson: text('capabilities_json').notNull().default('{}'),
  driversJson: text('drivers_json').notNull().default('[]'),
  cpus: integer('cpus').notNull().default(0),
  memoryMib: bigint('memory_mib', { mode: 'number' }).notNull().default(0),
  memoryLimitMib: bigint('memory_limit_mib', { mode: 'number' }).notNull().default(0),
  usageJson: text('usage_json').notNull().default('{}'),
  joinedAt: bigint('joined_at', { mode: 'number' }).notNull(),
  heartbeatAt: bigint('heartbeat_at', { mode: 'number' }).notNull(),
});

/** Single-use join tokens (`hgj_` secrets, only their hash kept), consumed by one conditional UPDATE. */
export const joinTokens = pgTable('join_tokens', {
  id: text('id').primaryKey(),
  tokenHash: text('token_hash').notNull().unique(),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: bigint('created_at', { mode: 'number' }).notNull(),
  expiresAt: bigint('expires_at', { mode: 'number' }).notNull(),
  usedAt: bigint('used_at', { mode: 'number' }),
  usedByNode: text('used_by_node'),
});

/**
 * Replicas of snapshots on nodes other than the one that made them (a fork there streamed the
 * archive over): where each copy's files are on that node, its size, and when a fork last used it
 * (least recently used copies go first past the node's budget). A row whose snapshot is gone is a
 * copy its node removes (at once when it is online, else when it comes back).
 */
export const snapshotCopies = pgTable(
  'snapshot_copies',
  {
    snapshotId: text('snapshot_id').notNull(),
    nodeId: text('node_id').notNull(),
    /** Its directory (the snapshot's files) on that node. */
    path: text('path').notNull(),
    /** Its frozen layer on that node. */
    diskPath: text('disk_path').notNull(),
    /** The snapshot's record as this copy's files have it (the import's own paths). */
    specJson: text('spec_json').notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.nodeId] })],
);

/** Copies of images other nodes hold (a cluster): the files of one build of the image, on one node (cluster/image-copies.ts). */
export const imageCopies = pgTable(
  'image_copies',
  {
    imageId: text('image_id').notNull(),
    nodeId: text('node_id').notNull(),
    /** Its directory on that node (DATA/images/NAME, as on the node that built it). */
    path: text('path').notNull(),
    /** The image's updated_at when copied: a rebuilt image is another build, and this copy is stale. */
    imageUpdatedAt: bigint('image_updated_at', { mode: 'number' }).notNull(),
    bytes: bigint('bytes', { mode: 'number' }).notNull().default(0),
    createdAt: bigint('created_at', { mode: 'number' }).notNull(),
    lastUsedAt: bigint('last_used_at', { mode: 'number' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.nodeId] })],
);

/**
 * Settings -> Registries, one set for every node: per registry host, TLS verification (on unless insecure), its own
 * CA (PEM) and credentials. Each node writes the files its tools read (skopeo's auth file, a cert dir) from these rows.
 */
export const registries = pgTable('registries', {
  host: text('host').primaryKey(),
  insecure: boolean('insecure').notNull().default(false),
  username: text('username'),
  password: text('password'),
  ca: text('ca'),
  updatedAt: bigint('updated_at', { mode: 'number' }).notNull(),
});
