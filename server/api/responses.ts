import type { z } from 'zod';
import { errorEnvelopeSchema } from '@/lib/contracts/common';
import { mayForward, type AnyRouteSpec, type ErrorStatus } from './route-spec';

const MUTATING = new Set(['post', 'put', 'patch', 'delete']);

/** One documented answer of an operation: its status, media type and body schema (null: no body). */
export interface ResponseRule {
  status: number;
  description: string;
  media: string | null;
  /** JSON bodies: the zod schema the body must satisfy (streams and files are not read by the validator). */
  schema: z.ZodType | null;
  /** The schema shown in the document. */
  docSchema?: z.ZodType | Record<string, unknown>;
  headers?: Record<string, { description: string; schema: { type: 'string' | 'integer' } }>;
}

const errorText: Record<ErrorStatus, string> = {
  400: 'Invalid input: the envelope lists the fields (validation_failed), or the request cannot be read (bad_request)',
  401: 'No valid session, API token or share link',
  403: "The caller's role (or grant) is too weak, a share link reaches only its console, or a cookie change came from another site",
  404: 'No such resource, or one the caller may not see',
  409: 'Conflicts with the current state (busy, in the wrong state, exists already), or names a label several snapshots share (issues: the candidates)',
  413: 'The request body is over its limit',
  429: 'Too many failed logins: wait for Retry-After seconds',
  503: 'A host tool the operation needs is unavailable here, or (a cluster) the node that owns it is offline or went away',
};

/**
 * The error answers an operation really gives, derived from what the route helper enforces
 * (validation, authentication, roles and grants, resource params, body limits) plus what the
 * route declares its domain can answer (`errors`: conflicts, unavailable tools, a missing
 * image named in the body, ...).
 */
export function errorStatuses(spec: AnyRouteSpec): ErrorStatus[] {
  const s = new Set<ErrorStatus>(spec.errors ?? []);
  if (spec.params || spec.query || spec.body || spec.upload || spec.list) s.add(400);
  if (spec.access !== 'public') s.add(401);
  // Roles, grants and share links on every signed-in route; the cross-site check on every change.
  if (spec.access !== 'public' || MUTATING.has(spec.method)) s.add(403);
  if (spec.path.includes('{')) s.add(404);
  // The body limit (1 MiB, uploads their own) applies to every request that may carry a body.
  if (MUTATING.has(spec.method)) s.add(413);
  // Forwarded in a cluster: the owning node may be offline.
  // (409: it moved under the forward.)
  if (mayForward(spec)) {
    s.add(409);
    s.add(503);
  }
  return [...s].sort((a, b) => a - b);
}

const binary = { type: 'string', format: 'binary' };
/** One schema component for every error answer (zod's `id` meta makes each use a $ref). */
const errorEnvelope = errorEnvelopeSchema.meta({ id: 'ErrorEnvelope' });
const ETAG_TEXT = 'Validator of this answer: send it back in If-None-Match to get 304 while it holds';

/** Every documented answer of an operation, by status: the route table, the OpenAPI document and the integration suite's response validator read this. */
export function responseRules(spec: AnyRouteSpec): Map<number, ResponseRule> {
  const rules = new Map<number, ResponseRule>();
  const status = spec.status ?? 200;
  const etag = spec.method === 'get' && !spec.produces;
  rules.set(status, {
    status,
    description: spec.produces?.description ?? (status === 202 ? 'Accepted: the job that does it' : status === 201 ? 'Created' : 'OK'),
    media: spec.produces?.type ?? 'application/json',
    schema: spec.produces ? null : spec.response,
    docSchema: spec.produces ? (spec.produces.schema ?? binary) : spec.response,
    ...(etag ? { headers: { ETag: { description: ETAG_TEXT, schema: { type: 'string' } } } } : {}),
  });
  if (etag) rules.set(304, { status: 304, description: 'Not modified: If-None-Match named the current ETag', media: null, schema: null });
  for (const s of errorStatuses(spec)) {
    rules.set(s, {
      status: s,
      description: errorText[s],
      media: 'application/json',
      schema: errorEnvelopeSchema,
      docSchema: errorEnvelope,
      ...(s === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait', schema: { type: 'integer' } } } } : {}),
    });
  }
  return rules;
}

/** The `responses` object of an operation in the OpenAPI document. */
export function openapiResponses(spec: AnyRouteSpec): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const r of responseRules(spec).values()) {
    out[String(r.status)] = {
      description: r.description,
      ...(r.headers ? { headers: r.headers } : {}),
      ...(r.media ? { content: { [r.media]: { schema: r.docSchema } } } : {}),
    };
  }
  return out;
}

/** The request body of an operation: JSON by its schema, or an upload's raw bytes. */
export function openapiRequestBody(spec: AnyRouteSpec): Record<string, unknown> | undefined {
  if (spec.upload) return { body: { required: true, description: spec.upload.description, content: { [spec.upload.type]: { schema: binary } } } };
  if (spec.body) return { body: { required: true, content: { 'application/json': { schema: spec.body } } } };
  return undefined;
}
