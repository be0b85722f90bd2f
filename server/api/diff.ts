import { z } from 'zod';
import { diffQuerySchema, diffResultSchema, machineDiffQuerySchema } from '@/lib/contracts/diff';
import { defineRoute, refParams } from './route';

const snapRef = z
  .string()
  .min(1)
  .max(120)
  // eslint-disable-next-line no-control-regex -- labels cannot hold them either (labelSchema)
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters');

/** Snapshot diff (issue 25): what changed between two snapshots, or on a machine since one. Operators, like the files API: it shows file contents. */
export const diffRoutes = [
  defineRoute({
    method: 'get',
    path: '/snapshots/{a}/diff/{b}',
    owner: { snapshot: 'a' },
    name: 'diffSnapshots',
    tag: 'snapshots',
    summary: 'Files added, removed and changed from snapshot A to snapshot B (?path=: one small text file as a unified diff)',
    access: 'operator',
    params: z.object({
      a: snapRef.describe('the earlier snapshot: id, or its label when exactly one snapshot has it'),
      b: snapRef.describe('the later snapshot: id or unique label'),
    }),
    query: diffQuerySchema,
    response: diffResultSchema,
    errors: [400, 409],
    handler: async ({ core, params, query }) => core.diff.betweenSnapshots(params.a, params.b, query),
  }),
  // Before /machines/{ref}/{action}: app.ts registers this group ahead of the machine routes.
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/diff',
    name: 'diffMachine',
    tag: 'snapshots',
    summary: "What changed on a machine since a snapshot (?against=, default: the one it runs on): its files now against the snapshot's",
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    query: machineDiffQuerySchema,
    response: diffResultSchema,
    errors: [400, 409],
    handler: async ({ core, principal, machine, query }) => core.diff.sinceSnapshot(principal, machine.id, query.against, query),
  }),
];
