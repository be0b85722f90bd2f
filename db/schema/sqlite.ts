import { sqliteTable, text, integer, primaryKey, index, uniqueIndex } from 'drizzle-orm/sqlite-core';

// Keep in step with ./pg.ts: db/schema.test.ts checks both have the same tables and columns.
// Ids are text made by the app; timestamps are app-side integer milliseconds.

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    username: text('username').notNull().unique(),
    passwordHash: text('password_hash').notNull(),
    role: text('role', { enum: ['member', 'viewer', 'operator', 'admin'] }).notNull(),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    /** The user's own UI preferences (the console workspace layout), JSON. */
    prefsJson: text('prefs_json').notNull().default('{}'),
    /** Per-user overrides of the role's limits (machines, vCPUs, memory, disk), JSON; a key absent: the role's. */
    limitsJson: text('limits_json').notNull().default('{}'),
    /** A user made by single sign-on: the provider's id and the subject it names the person by. */
    oidcProvider: text('oidc_provider'),
    oidcSubject: text('oidc_subject'),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('users_oidc_idx').on(t.oidcProvider, t.oidcSubject)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    ip: text('ip'),
    userAgent: text('user_agent'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export const apiTokens = sqliteTable(
  'api_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    role: text('role', { enum: ['member', 'viewer', 'operator', 'admin'] }).notNull(),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at'),
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('api_tokens_user_idx').on(t.userId)],
);

export const machines = sqliteTable('machines', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  driver: text('driver', { enum: ['qemu', 'nspawn', 'podman', 'ssh'] }).notNull(),
  image: text('image').notNull(),
  state: text('state', { enum: ['creating', 'stopped', 'starting', 'running', 'paused', 'stopping', 'failed'] }).notNull(),
  stateReason: text('state_reason'),
  cpus: integer('cpus').notNull(),
  memoryMib: integer('memory_mib').notNull(),
  diskGib: integer('disk_gib').notNull(),
  portsJson: text('ports_json').notNull().default('[]'),
  ownerId: text('owner_id').references(() => users.id, { onDelete: 'set null' }),
  snapshotId: text('snapshot_id'),
  runtimeJson: text('runtime_json').notNull().default('{}'),
  /** Console sessions of this machine are recorded (asciicast). */
  recordConsole: integer('record_console', { mode: 'boolean' }).notNull().default(false),
  /** Labels for filtering the machine list (a JSON array of tag strings). */
  tagsJson: text('tags_json').notNull().default('[]'),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  /** The node that runs it (a cluster); null on one node and for rows older than the cluster (the founder's). */
  nodeId: text('node_id'),
});

export const snapshots = sqliteTable(
  'snapshots',
  {
    id: text('id').primaryKey(),
    parentId: text('parent_id'),
    machineId: text('machine_id'),
    kind: text('kind', { enum: ['live', 'disk'] }).notNull(),
    label: text('label').notNull(),
    state: text('state', { enum: ['pending', 'complete', 'failed'] }).notNull(),
    sizeBytes: integer('size_bytes').notNull().default(0),
    pauseMs: integer('pause_ms'),
    /** What a restore or fork needs to start it again: driver, image, and the machine's shape when it was taken. */
    driver: text('driver', { enum: ['qemu', 'nspawn', 'podman', 'ssh'] })
      .notNull()
      .default('qemu'),
    image: text('image').notNull().default(''),
    specJson: text('spec_json').notNull().default('{}'),
    /** The frozen disk layer (qcow2) this snapshot owns; its backing chain runs through its ancestors' layers. */
    diskPath: text('disk_path').notNull().default(''),
    path: text('path').notNull(),
    createdAt: integer('created_at').notNull(),
    /** The schedule that took it (its retention may prune it); null when taken by hand or by a step. */
    scheduleId: text('schedule_id'),
    /** A point of its machine's undo ring (taken by its undo schedule, pruned as the ring turns). */
    undoPoint: integer('undo_point', { mode: 'boolean' }).notNull().default(false),
    /** Kept hot: forks of it take a QEMU process started ahead (see server/core/hot-pool.ts). */
    hot: integer('hot', { mode: 'boolean' }).notNull().default(false),
    /** The node that holds its files (a cluster); null on one node and for rows older than the cluster (the founder's). */
    nodeId: text('node_id'),
  },
  (t) => [index('snapshots_parent_idx').on(t.parentId)],
);

/**
 * The step cache: one node per step result, keyed by hash(parent key, step, version, canonical
 * args, content of local files read); its machine state is a snapshot. Roots are base images.
 */
export const stepNodes = sqliteTable(
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
    durationMs: integer('duration_ms').notNull().default(0),
    hits: integer('hits').notNull().default(0),
    lastUsedAt: integer('last_used_at').notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('step_nodes_parent_idx').on(t.parentKey)],
);

export const images = sqliteTable('images', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind').notNull(),
  state: text('state', { enum: ['building', 'ready', 'failed'] }).notNull(),
  sizeBytes: integer('size_bytes').notNull().default(0),
  recipeJson: text('recipe_json').notNull().default('{}'),
  path: text('path').notNull(),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  /** The cluster node whose data dir holds it (null on one node, and for images older than the cluster: the founder's). */
  nodeId: text('node_id'),
});

export const jobs = sqliteTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    title: text('title').notNull(),
    state: text('state', { enum: ['queued', 'running', 'succeeded', 'failed', 'cancelled'] }).notNull(),
    progress: integer('progress').notNull().default(0),
    message: text('message').notNull().default(''),
    error: text('error'),
    resultJson: text('result_json'),
    ownerId: text('owner_id').references(() => users.id, { onDelete: 'set null' }),
    machineId: text('machine_id'),
    /** The job that started this one (null: a person did). */
    parentId: text('parent_id'),
    /** The node that runs it (null: the founding node, for rows older than clusters). */
    nodeId: text('node_id'),
    createdAt: integer('created_at').notNull(),
    startedAt: integer('started_at'),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('jobs_created_idx').on(t.createdAt), index('jobs_parent_idx').on(t.parentId)],
);

export const jobLogs = sqliteTable(
  'job_logs',
  {
    jobId: text('job_id')
      .notNull()
      .references(() => jobs.id, { onDelete: 'cascade' }),
    seq: integer('seq').notNull(),
    ts: integer('ts').notNull(),
    line: text('line').notNull(),
  },
  (t) => [primaryKey({ columns: [t.jobId, t.seq] })],
);

export const shareLinks = sqliteTable('share_links', {
  id: text('id').primaryKey(),
  machineId: text('machine_id').notNull(),
  tokenHash: text('token_hash').notNull().unique(),
  role: text('role', { enum: ['viewer', 'operator', 'admin'] }).notNull(),
  label: text('label'),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  revokedAt: integer('revoked_at'),
  lastUsedAt: integer('last_used_at'),
  /** A recording link: it opens this one recording of the machine (its cast and markers), nothing else. */
  recordingId: text('recording_id'),
});

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    ts: integer('ts').notNull(),
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

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  valueJson: text('value_json').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Per-machine roles: a teammate given one machine (owner: may also share it and grant it; operator; viewer). */
export const machineGrants = sqliteTable(
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
    createdAt: integer('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.machineId, t.userId] }), index('machine_grants_user_idx').on(t.userId)],
);

/** Webhooks: where to send which events, signed with `secret` (kept here: signing needs it; never returned after creation). */
export const webhooks = sqliteTable('webhooks', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  eventsJson: text('events_json').notNull(),
  secret: text('secret').notNull(),
  description: text('description'),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** A webhook's recent deliveries (the last few are kept per webhook), with the body sent, for redelivery. */
export const webhookDeliveries = sqliteTable(
  'webhook_deliveries',
  {
    id: text('id').primaryKey(),
    webhookId: text('webhook_id')
      .notNull()
      .references(() => webhooks.id, { onDelete: 'cascade' }),
    event: text('event').notNull(),
    body: text('body').notNull(),
    state: text('state', { enum: ['pending', 'retrying', 'succeeded', 'failed'] }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    responseCode: integer('response_code'),
    durationMs: integer('duration_ms'),
    error: text('error'),
    createdAt: integer('created_at').notNull(),
    lastAttemptAt: integer('last_attempt_at'),
    nextAttemptAt: integer('next_attempt_at'),
    redeliveryOf: text('redelivery_of'),
  },
  (t) => [index('webhook_deliveries_hook_idx').on(t.webhookId, t.createdAt)],
);

/** Snapshot schedules: a cron in a time zone for one machine or every machine with a tag, and the retention of what it took. */
export const schedules = sqliteTable('schedules', {
  id: text('id').primaryKey(),
  machineId: text('machine_id'),
  tag: text('tag'),
  cron: text('cron').notNull(),
  timeZone: text('time_zone').notNull(),
  keepJson: text('keep_json').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
  nextRunAt: integer('next_run_at'),
  lastRunAt: integer('last_run_at'),
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
  everyMs: integer('every_ms'),
});

/** Where backups go: an S3-compatible bucket or a host directory. `secret` (the S3 secret key) is the server's: never returned. */
export const backupTargets = sqliteTable('backup_targets', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  kind: text('kind', { enum: ['s3', 'dir'] }).notNull(),
  configJson: text('config_json').notNull(),
  secret: text('secret'),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** OpenID Connect providers people may sign in with. The client secret never leaves the server (no API returns it). */
export const signInProviders = sqliteTable('sign_in_providers', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  issuer: text('issuer').notNull(),
  clientId: text('client_id').notNull(),
  clientSecret: text('client_secret').notNull(),
  scopes: text('scopes').notNull(),
  roleClaim: text('role_claim').notNull(),
  roleMapJson: text('role_map_json').notNull(),
  allowedDomainsJson: text('allowed_domains_json').notNull(),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  createdAt: integer('created_at').notNull(),
  updatedAt: integer('updated_at').notNull(),
});

/** Users' SSH public keys: put into the authorized_keys of the machines they may operate. */
export const sshKeys = sqliteTable(
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
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('ssh_keys_user_fingerprint_idx').on(t.userId, t.fingerprint)],
);

/** Fork links: each opener gets a private fork of the snapshot; `used` is reserved by one conditional UPDATE (used < max_forks). */
export const forkLinks = sqliteTable('fork_links', {
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
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  revokedAt: integer('revoked_at'),
});

/** The forks made through a link: stored, so their lifetimes hold across restarts. */
export const forkLinkForks = sqliteTable(
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
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    endedAt: integer('ended_at'),
  },
  (t) => [index('fork_link_forks_link_idx').on(t.linkId)],
);

/** The ISO library: installer images kept under the data dir (isos/<name>), checked ISO 9660 or UDF before they are kept. */
export const isos = sqliteTable('isos', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  sizeBytes: integer('size_bytes').notNull(),
  format: text('format', { enum: ['iso9660', 'udf'] }).notNull(),
  /** Where it came from: `upload:<file name>` or the URL. */
  source: text('source').notNull(),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
});

/** Cluster nodes (PostgreSQL only in practice): one Hangar server each; heartbeat_at is written with the database's clock. */
export const nodes = sqliteTable('nodes', {
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
  memoryMib: integer('memory_mib').notNull().default(0),
  memoryLimitMib: integer('memory_limit_mib').notNull().default(0),
  usageJson: text('usage_json').notNull().default('{}'),
  joinedAt: integer('joined_at').notNull(),
  heartbeatAt: integer('heartbeat_at').notNull(),
});

/** Single-use join tokens (`hgj_` secrets, only their hash kept), consumed by one conditional UPDATE. */
export const joinTokens = sqliteTable('join_tokens', {
  id: text('id').primaryKey(),
  tokenHash: text('token_hash').notNull().unique(),
  createdBy: text('created_by').references(() => users.id, { onDelete: 'set null' }),
  createdAt: integer('created_at').notNull(),
  expiresAt: integer('expires_at').notNull(),
  usedAt: integer('used_at'),
  usedByNode: text('used_by_node'),
});

/**
 * Replicas of snapshots on nodes other than the one that made them (a fork there streamed the
 * archive over): where each copy's files are on that node, its size, and when a fork last used it
 * (least recently used copies go first past the node's budget). A row whose snapshot is gone is a
 * copy its node removes (at once when it is online, else when it comes back).
 */
export const snapshotCopies = sqliteTable(
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
    bytes: integer('bytes').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.snapshotId, t.nodeId] })],
);

/** Copies of images other nodes hold (a cluster): the files of one build of the image, on one node (cluster/image-copies.ts). */
export const imageCopies = sqliteTable(
  'image_copies',
  {
    imageId: text('image_id').notNull(),
    nodeId: text('node_id').notNull(),
    /** Its directory on that node (DATA/images/NAME, as on the node that built it). */
    path: text('path').notNull(),
    /** The image's updated_at when copied: a rebuilt image is another build, and this copy is stale. */
    imageUpdatedAt: integer('image_updated_at').notNull(),
    bytes: integer('bytes').notNull().default(0),
    createdAt: integer('created_at').notNull(),
    lastUsedAt: integer('last_used_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.imageId, t.nodeId] })],
);

/**
 * Settings -> Registries, one set for every node: per registry host, TLS verification (on unless insecure), its own
 * CA (PEM) and credentials. Each node writes the files its tools read (skopeo's auth file, a cert dir) from these rows.
 */
export const registries = sqliteTable('registries', {
  host: text('host').primaryKey(),
  insecure: integer('insecure', { mode: 'boolean' }).notNull().default(false),
  username: text('username'),
  password: text('password'),
  ca: text('ca'),
  updatedAt: integer('updated_at').notNull(),
});
