// Type-level proof that the CLI's and the web client's contract types (lib/contracts, what
// lib/api-client parses answers with) and the SDK's generated types (sdk/src/openapi.ts, from the
// published document) describe the same answers: `npm run typecheck` fails when they drift.
import type { paths } from './src/openapi';
import type { Job } from '../lib/contracts/jobs';
import type { z } from 'zod';
import type { execBodySchema, ExecResult, Machine } from '../lib/contracts/machines';
import type { FilesPushed, FileStat } from '../lib/contracts/files';
import type { BuildBody } from '../lib/contracts/steps';

type Ok<P extends keyof paths, M extends 'get' | 'post' | 'put'> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: { content: { 'application/json': infer T } } }
    ? T
    : R extends { 202: { content: { 'application/json': infer T } } }
      ? T
      : R extends { 201: { content: { 'application/json': infer T } } }
        ? T
        : never
  : never;
type Body<P extends keyof paths, M extends 'post' | 'put'> = paths[P][M] extends { requestBody?: { content: { 'application/json': infer T } } } ? T : never;
/** Both ways assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type ContractChecks = [
  Assert<Same<Ok<'/api/machines/{ref}', 'get'>, Machine>>,
  // `result` is any JSON: zod says unknown (a key always there), the document an optional key.
  Assert<Same<Omit<Ok<'/api/jobs/{id}', 'get'>, 'result'>, Omit<Job, 'result'>>>,
  Assert<Same<Ok<'/api/machines/{ref}/exec', 'post'>, ExecResult>>,
  Assert<Same<Ok<'/api/machines/{ref}/files', 'get'>, FileStat>>,
  Assert<Same<Ok<'/api/machines/{ref}/files/archive', 'put'>, FilesPushed>>,
  Assert<Same<Omit<Ok<'/api/steps/build', 'post'>, 'result'>, Omit<Job, 'result'>>>,
  // Request bodies: what the clients send is what the document takes.
  Assert<Same<Body<'/api/machines/{ref}/exec', 'post'>, z.input<typeof execBodySchema>>>,
  Assert<Same<Body<'/api/steps/build', 'post'>, BuildBody>>,
];
