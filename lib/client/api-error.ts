import type { ErrorCode } from '@/lib/contracts/common';

/**
 * A non-2xx answer's error envelope (or a network failure, status 0). In a module of its own, with
 * no zod: the CLI's start (its error printing) and `hangar run`'s light path load it alone.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode | 'network',
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
  }
}

const isIssue = (i: unknown): i is { path: string; message: string } =>
  typeof i === 'object' && i !== null && typeof (i as { path?: unknown }).path === 'string' && typeof (i as { message?: unknown }).message === 'string';

/** The ApiError of a non-2xx answer: its error envelope (`{ error: { code, message, issues? } }`), or `HTTP N from PATH` when it has none. */
export function apiErrorOf(status: number, text: string, path: string): ApiError {
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: reported below
  }
  const e = (json as { error?: { code?: unknown; message?: unknown; issues?: unknown } } | undefined)?.error;
  if (e && typeof e.code === 'string' && typeof e.message === 'string' && (e.issues === undefined || (Array.isArray(e.issues) && e.issues.every(isIssue))))
    return new ApiError(status, e.code as ErrorCode, e.message, e.issues as { path: string; message: string }[] | undefined);
  return new ApiError(status, 'internal', `HTTP ${status} from ${path}`);
}
