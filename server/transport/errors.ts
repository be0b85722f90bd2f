import { z } from 'zod';
import type { ErrorCode } from '@/lib/contracts/common';
import { HangarError, statusOf } from '@/server/core/errors';

export function envelope(code: ErrorCode, message: string, issues?: { path: string; message: string }[]) {
  return { error: { code, message, ...(issues ? { issues } : {}) } };
}

export function zodIssues(err: z.ZodError): { path: string; message: string }[] {
  return err.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }));
}

/** SQLite's and PostgreSQL's "duplicate key", directly or wrapped by Drizzle. */
function isUniqueViolation(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === '23505') return true;
  }
  return false;
}

/** Map anything thrown to the one envelope; unexpected errors are logged and told apart from ours. */
export function errorToResponse(err: unknown): { status: number; body: ReturnType<typeof envelope> } {
  if (err instanceof HangarError) {
    return { status: statusOf[err.code], body: envelope(err.code, err.message, err.issues) };
  }
  if (err instanceof z.ZodError) return { status: 400, body: envelope('validation_failed', 'Invalid input.', zodIssues(err)) };
  // Two requests creating the same name at once: the database's unique index decides, the loser hears 409.
  if (isUniqueViolation(err)) return { status: 409, body: envelope('conflict', 'It exists already (made by another request just now).') };
  return { status: 500, body: envelope('internal', 'Internal error: see the server log.') };
}
