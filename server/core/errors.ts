import type { ErrorCode } from '@/lib/contracts/common';

/** Domain errors: the route helper and socket handlers map them to statuses and envelopes. */
export class HangarError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: { path: string; message: string }[],
  ) {
    super(message);
    this.name = new.target.name;
  }
}
export class BadRequestError extends HangarError {
  constructor(message: string, issues?: { path: string; message: string }[]) {
    super(issues ? 'validation_failed' : 'bad_request', message, issues);
  }
}
export class UnauthorizedError extends HangarError {
  constructor(message = 'Log in first: no valid session or API token.') {
    super('unauthorized', message);
  }
}
export class ForbiddenError extends HangarError {
  constructor(message: string) {
    super('forbidden', message);
  }
}
export class NotFoundError extends HangarError {
  constructor(what: string) {
    super('not_found', `${what} not found.`);
  }
}
/**
 * A machine that is not there, or not there for this caller: the same words either way (a member must not learn that a
 * machine not given to them exists), naming it as the caller asked for it (a name or an id).
 */
export const machineNotFound = (asked: string): NotFoundError => new NotFoundError(`Machine "${asked}"`);

export class ConflictError extends HangarError {
  constructor(message: string, issues?: { path: string; message: string }[]) {
    super('conflict', message, issues);
  }
}
export class UnavailableError extends HangarError {
  constructor(message: string) {
    super('unavailable', message);
  }
}

export class PayloadTooLargeError extends HangarError {
  constructor(message: string) {
    super('payload_too_large', message);
  }
}

export class RateLimitedError extends HangarError {
  constructor(
    message: string,
    /** Seconds until a retry may succeed (the Retry-After header). */
    readonly retryAfterS: number,
  ) {
    super('rate_limited', message);
  }
}

export const statusOf: Record<ErrorCode, 400 | 401 | 403 | 404 | 409 | 413 | 429 | 503 | 500> = {
  bad_request: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};
