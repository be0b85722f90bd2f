import { z } from 'zod';
import { timestampSchema } from './common';

/** Whether a Prometheus scrape token is set (it is shown only when made). */
export const scrapeTokenInfoSchema = z.object({ configured: z.boolean(), createdAt: timestampSchema.nullable() });
export type ScrapeTokenInfo = z.infer<typeof scrapeTokenInfoSchema>;

/** A new scrape token (replacing any earlier one): `Authorization: Bearer TOKEN` on GET /metrics. Shown once. */
export const createdScrapeTokenSchema = z.object({ token: z.string(), createdAt: timestampSchema });
