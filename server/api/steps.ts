import { z } from 'zod';
import { listOf } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import { buildBodySchema, stepInfoSchema, stepTreeNodeSchema } from '@/lib/contracts/steps';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { defineRoute } from './route';

const keyParams = z.object({ key: z.string().regex(/^[0-9a-f]{32}$/, 'a step node key') });

export const stepRoutes = [
  defineRoute({
    method: 'get',
    path: '/steps/catalog',
    name: 'listStepCatalog',
    tag: 'steps',
    summary: 'The steps a chain can use: name, version, usage (by name)',
    access: 'viewer',
    list: {},
    response: listOf(stepInfoSchema),
    handler: async ({ core, page }) => pageOf(await core.steps.catalog(), page, (x) => x.name),
  }),
  defineRoute({
    method: 'get',
    path: '/steps/nodes',
    name: 'listStepNodes',
    tag: 'steps',
    summary: 'The step cache as a tree: nodes with parent keys, snapshot, size, hits, last use, build time (oldest first)',
    access: 'viewer',
    list: {},
    response: listOf(stepTreeNodeSchema),
    handler: async ({ core, page }) => pageOf(await core.steps.tree(), page, (n) => timeIdKey(n.createdAt, n.key)),
  }),
  defineRoute({
    method: 'post',
    path: '/steps/build',
    name: 'buildChain',
    tag: 'steps',
    summary: 'Build a machine from a chain (text or steps): cached prefix restored, the rest run; returns the job',
    access: 'operator',
    status: 202,
    body: buildBodySchema,
    response: jobSchema,
    errors: [404, 409, 503],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.steps.build(principal, body);
      await core.audit.record(principal, {
        action: 'steps.build',
        target: { kind: 'job', id: job.id },
        ip,
        detail: { chain: body.chain?.slice(0, 500) ?? null, steps: body.steps?.map((s) => s.step) ?? null, name: body.name ?? null },
      });
      return job;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/steps/nodes/{key}',
    name: 'invalidateStep',
    tag: 'steps',
    summary: 'Invalidate a cached step and everything built on it',
    access: 'operator',
    params: keyParams,
    response: z.object({ removed: z.number().int() }),
    handler: async ({ core, principal, params, ip }) => {
      const r = await core.steps.invalidate(params.key);
      await core.audit.record(principal, { action: 'steps.invalidate', target: { kind: 'step', id: params.key }, ip, detail: r });
      return r;
    },
  }),
];
