import { z } from 'zod';

export const healthSchema = z.object({
  ok: z.literal(true),
  version: z.string(),
  uptimeS: z.number(),
  db: z.enum(['sqlite', 'postgres']),
});
export type Health = z.infer<typeof healthSchema>;
