import { z } from 'zod';
import { NAME_PATTERN } from './common';

/** A node's use of its host, written with each heartbeat (on one node: read when asked). */
export const nodeUsageSchema = z.object({
  /** When it was measured (epoch ms, the node's clock). */
  t: z.number(),
  /** CPU busy over the last interval, 0 to 100 (null before a second sample). */
  cpuPct: z.number().nullable(),
  memTotalBytes: z.number(),
  memAvailableBytes: z.number(),
  /** The file system of the node's data dir. */
  diskTotalBytes: z.number(),
  diskFreeBytes: z.number(),
});
export type NodeUsage = z.infer<typeof nodeUsageSchema>;

/** One Hangar server of a cluster (PostgreSQL), as GET /api/nodes shows it; on one node (SQLite), this host. */
export const nodeSchema = z.object({
  id: z.string(),
  name: z.string(),
  internalUrl: z.string(),
  version: z.string(),
  state: z.enum(['active', 'draining']),
  /** A heartbeat within the last 10 s, by the database's clock. */
  online: z.boolean(),
  /** Milliseconds since its last heartbeat (the database's clock). */
  heartbeatAgeMs: z.number(),
  /** The host features its probe found available (kvm, nspawn, podman, nat ...). */
  capabilities: z.array(z.string()),
  /** The machine drivers it runs (their description says available on its host); empty before its probe answered. */
  drivers: z.array(z.string()).default([]),
  cpus: z.number().int(),
  memoryMib: z.number().int(),
  joinedAt: z.number(),
  /** The node that answered this request. */
  self: z.boolean(),
  /** Its CPU, memory and disk use as of its last heartbeat (null before one carried them). */
  usage: nodeUsageSchema.nullable().optional(),
  /** The machines it holds (null when not known). */
  machines: z.number().int().nullable().optional(),
});
export type ClusterNode = z.infer<typeof nodeSchema>;

export const nodeNameSchema = z.string().regex(NAME_PATTERN, 'a node name: lower-case letters, digits and dashes');
export const nodeNameParams = z.object({ name: nodeNameSchema });

export const createJoinTokenBodySchema = z.object({
  /** How long the token may be used (default 30 minutes, at most 7 days). */
  ttlSeconds: z
    .number()
    .int()
    .min(1)
    .max(7 * 86400)
    .optional(),
});
export type CreateJoinTokenBody = z.infer<typeof createJoinTokenBodySchema>;

/** A join token, shown once: `hangar up --cluster-join URL --token T` on the new node uses it. */
export const joinTokenSchema = z.object({
  id: z.string(),
  token: z.string(),
  expiresAt: z.number(),
  command: z.string(),
});
export type JoinToken = z.infer<typeof joinTokenSchema>;

/** A join token not used yet and not expired, as GET /api/nodes/join-tokens lists it (never the secret). */
export const openJoinTokenSchema = z.object({
  id: z.string(),
  createdBy: z.string().nullable(),
  createdAt: z.number(),
  expiresAt: z.number(),
});
export type OpenJoinToken = z.infer<typeof openJoinTokenSchema>;

/** What a joining node sends to POST /api/cluster/join (the token is its credential). */
export const joinBodySchema = z.object({
  token: z.string().min(8).max(200),
  nodeId: z.string().regex(/^nod_[a-z0-9]{20}$/),
  name: nodeNameSchema,
  internalUrl: z.string().url().max(500),
  version: z.string().min(1).max(100),
  /** Its Ed25519 public key (SPKI PEM). */
  publicKey: z.string().min(40).max(1000),
});
export type JoinBody = z.infer<typeof joinBodySchema>;

export const joinedSchema = z.object({ nodeId: z.string(), name: z.string(), clusterId: z.string() });
export type Joined = z.infer<typeof joinedSchema>;

/** GET /api/internal/ping: the node proves it holds its key by signing the caller's challenge. */
export const pingQuerySchema = z.object({ challenge: z.string().min(16).max(200) });
export const pongSchema = z.object({ node: z.string(), signature: z.string() });
