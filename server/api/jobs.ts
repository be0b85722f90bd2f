import { idParams, listOf } from '@/lib/contracts/common';
import { demoJobBodySchema, jobListQuerySchema, jobLogLineSchema, jobLogQuerySchema, jobSchema } from '@/lib/contracts/jobs';
import { defineRoute } from './route';

export const jobRoutes = [
  defineRoute({
    method: 'get',
    path: '/jobs',
    tag: 'jobs',
    summary: 'Recent jobs you may see',
    access: 'viewer',
    query: jobListQuerySchema,
    response: listOf(jobSchema),
    handler: async ({ core, principal, query }) => ({ items: await core.jobs.list(principal, query) }),
  }),
  defineRoute({
    method: 'get',
    path: '/jobs/{id}',
    tag: 'jobs',
    summary: 'One job',
    access: 'viewer',
    params: idParams,
    response: jobSchema,
    handler: async ({ core, principal, params }) => core.jobs.get(principal, params.id),
  }),
  defineRoute({
    method: 'get',
    path: '/jobs/{id}/logs',
    tag: 'jobs',
    summary: 'Log lines after a sequence number',
    access: 'viewer',
    params: idParams,
    query: jobLogQuerySchema,
    response: listOf(jobLogLineSchema),
    handler: async ({ core, principal, params, query }) => ({ items: await core.jobs.logs(principal, params.id, query.after) }),
  }),
  defineRoute({
    method: 'post',
    path: '/jobs/{id}/cancel',
    tag: 'jobs',
    summary: 'Cancel a queued or running job',
    access: 'operator',
    params: idParams,
    response: jobSchema,
    handler: async ({ core, principal, params, ip }) => {
      const job = await core.jobs.cancel(principal, params.id);
      await core.audit.record(principal, { action: 'job.cancel', target: { kind: 'job', id: job.id }, ip });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/jobs/demo',
    tag: 'jobs',
    summary: 'Start a demo job that sleeps and reports progress',
    access: 'operator',
    status: 202,
    body: demoJobBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.jobs.startDemo(principal, body);
      await core.audit.record(principal, { action: 'job.demo', target: { kind: 'job', id: job.id }, ip });
      return job;
    },
  }),
];
