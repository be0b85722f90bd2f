import { idParams, listOf } from '@/lib/contracts/common';
import { demoJobBodySchema, jobListQuerySchema, jobLogLineSchema, jobLogQuerySchema, jobSchema } from '@/lib/contracts/jobs';
import { pageFromRows, parseNumberKey, parseTimeIdKey, timeIdKey } from '@/server/core/paging';
import { defineRoute } from './route';

const JOB_PAGE = 100;

export const jobRoutes = [
  defineRoute({
    method: 'get',
    path: '/jobs',
    name: 'listJobs',
    tag: 'jobs',
    summary: 'Jobs you may see, newest first (`parent`: only the jobs that job started)',
    access: 'viewer',
    query: jobListQuerySchema,
    list: { defaultLimit: JOB_PAGE, maxLimit: 500 },
    response: listOf(jobSchema),
    handler: async ({ core, principal, query, page }) => {
      const limit = page.limit ?? JOB_PAGE;
      const after = page.after === undefined ? undefined : parseTimeIdKey(page.after);
      const before = after ? { before: { createdAt: after.n, id: after.id } } : {};
      const rows = await core.jobs.list(principal, { state: query.state, parentId: query.parent, limit: limit + 1, ...before });
      return pageFromRows(rows, limit, (j) => timeIdKey(j.createdAt, j.id));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/jobs/{id}',
    owner: 'any',
    name: 'getJob',
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
    owner: { job: 'id' },
    name: 'getJobLogs',
    tag: 'jobs',
    summary: 'Log lines after a sequence number (`after`), or after the cursor of the previous page',
    access: 'viewer',
    params: idParams,
    query: jobLogQuerySchema,
    list: { maxLimit: 5000 },
    response: listOf(jobLogLineSchema),
    handler: async ({ core, principal, params, query, page }) => {
      const lines = await core.jobs.logs(principal, params.id, page.after === undefined ? query.after : parseNumberKey(page.after));
      const limit = page.limit ?? lines.length;
      return pageFromRows(lines, limit, (l) => String(l.seq));
    },
  }),
  defineRoute({
    method: 'post',
    path: '/jobs/{id}/cancel',
    owner: { job: 'id' },
    name: 'cancelJob',
    tag: 'jobs',
    summary: 'Cancel a queued or running job',
    access: 'operator',
    params: idParams,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      const job = await core.jobs.cancel(principal, params.id);
      await core.audit.record(principal, { action: 'job.cancel', target: { kind: 'job', id: job.id }, ip });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/jobs/demo',
    name: 'startDemoJob',
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
