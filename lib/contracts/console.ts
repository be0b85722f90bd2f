import { z } from 'zod';
import { idSchema } from './common';

/** Client-made console session ids, so a reloaded page returns to the same terminal. */
export const consoleSessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'session id: 8-64 of A-Z a-z 0-9 _ -');

export const consoleTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('host-shell') }),
  z.object({ kind: z.literal('machine'), machineId: idSchema, channel: z.enum(['serial', 'ssh']) }),
]);
export type ConsoleTarget = z.infer<typeof consoleTargetSchema>;

export const consoleModeSchema = z.enum(['interactive', 'readonly']);
export type ConsoleMode = z.infer<typeof consoleModeSchema>;

const cols = z.number().int().min(2).max(1000);
const rows = z.number().int().min(2).max(500);

export const attachRequestSchema = z.object({
  sessionId: consoleSessionIdSchema,
  target: consoleTargetSchema,
  mode: consoleModeSchema.default('interactive'),
  cols: cols.default(80),
  rows: rows.default(24),
  /** Output offset the viewer already has: replay starts after it, so nothing is shown twice. */
  since: z.number().int().min(0).optional(),
});
export type AttachRequest = z.input<typeof attachRequestSchema>;

export const attachReplySchema = z.union([
  z.object({
    ok: z.literal(true),
    sessionId: z.string(),
    mode: consoleModeSchema,
    /** Offset at the end of `replay`. */
    offset: z.number().int(),
    replay: z.string(),
    /** True when the viewer's `since` fell out of the ring buffer and some output was lost. */
    truncated: z.boolean(),
    exited: z.boolean(),
    /** The session's output is being recorded (asciicast), per the machine's setting. */
    recording: z.boolean(),
  }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type AttachReply = z.infer<typeof attachReplySchema>;

export const inputSchema = z.object({ sessionId: consoleSessionIdSchema, data: z.string().max(65536) });
export const resizeSchema = z.object({ sessionId: consoleSessionIdSchema, cols, rows });
export const detachSchema = z.object({ sessionId: consoleSessionIdSchema });

export interface ConsoleOutput {
  sessionId: string;
  /** Offset after this chunk. */
  offset: number;
  data: string;
}
export interface ConsoleExit {
  sessionId: string;
  code: number | null;
}
/** One viewer of a console, as the others see them. */
export interface ConsolePresence {
  /** Opaque, per attach: not a socket or user id. */
  id: string;
  name: string;
  via: 'session' | 'token' | 'share';
  mode: ConsoleMode;
}

export interface ConsoleViewers {
  sessionId: string;
  count: number;
  viewers: ConsolePresence[];
  /** The presence id holding the keyboard; null: any operator may type. */
  keyboard: string | null;
  /** Your own presence id in `viewers`. */
  you: string;
}

export const keyboardRequestSchema = z.object({
  sessionId: consoleSessionIdSchema,
  action: z.enum(['take', 'release', 'give']),
  to: z
    .string()
    .regex(/^[0-9a-f]{12}$/)
    .optional(),
});
export type KeyboardReply = { ok: true } | { ok: false; error: { code: string; message: string } };
