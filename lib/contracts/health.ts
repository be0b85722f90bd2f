import { z } from 'zod';

export const healthSchema = z.object({
  ok: z.literal(true),
  version: z.string(),
  uptimeS: z.number(),
  db: z.enum(['sqlite', 'postgres']),
  /** How this server is reached: HTTPS, or plain HTTP and why (the UI warns on 'insecure': plain HTTP beyond loopback). */
  transport: z.object({
    scheme: z.enum(['http', 'https']),
    plainReason: z.enum(['loopback', 'proxy', 'insecure']).optional(),
    fingerprint256: z.string().optional(),
  }),
  /** A cluster of nodes on one PostgreSQL (the UI shows the Nodes page); `node`: the one that answered. */
  cluster: z.object({ enabled: z.boolean(), node: z.string().optional() }),
});
export type Health = z.infer<typeof healthSchema>;
