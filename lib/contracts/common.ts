import { z } from 'zod';

/** Machine, image and user names: safe in paths, argv and URLs. */
export const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export const isValidName = (s: string): boolean => NAME_PATTERN.test(s);
export const nameSchema = z.string().regex(NAME_PATTERN, 'lowercase letters, digits and dashes; 1-63 chars; starts and ends alphanumeric');

/** Ids are random base32-ish strings made by the server (see server/core/ids.ts). */
export const ID_PATTERN = /^[a-z]{2,4}_[a-z0-9]{10,40}$/;
export const isValidId = (s: string): boolean => ID_PATTERN.test(s);
export const idSchema = z.string().regex(ID_PATTERN, 'not a Hangar id');
export const idParams = z.object({ id: idSchema });

export const timestampSchema = z.number().int().nonnegative().describe('milliseconds since the Unix epoch');

export const errorCodes = [
  'bad_request',
  'validation_failed',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'payload_too_large',
  'rate_limited',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const errorEnvelopeSchema = z.object({
  error: z.object({
    code: z.enum(errorCodes),
    message: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  }),
});
export type ErrorEnvelope = z.infer<typeof errorEnvelopeSchema>;

export const okSchema = z.object({ ok: z.literal(true) });

/** A list answer: a page of items, and the cursor of the next page (null on the last). Every list pages with `limit` and `cursor`. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next: z.string().nullable() });
}

/** Asking for a page: at most `limit` items after `cursor` (the `next` of the previous page). */
export type PageQuery = {
  limit?: number;
  cursor?: string;
};
