import { jobSchema } from '@/lib/contracts/jobs';
import { probeBodySchema } from '@/lib/contracts/probes';
import { defineRoute } from './route';

export const probeRoutes = [
  defineRoute({
    method: 'post', path: '/probes', tag: 'probes', summary: 'Probe packages in a throwaway container (install, unit active, URL answers); returns the job, whose result is the report', access: 'operator', status: 202,
    body: probeBodySchema, response: jobSchema,
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.probes.start(principal, body);
      await core.audit.record(principal, { action: 'probe.start', target: { kind: 'probe', id: job.id }, ip, detail: body });
      return job;
    },
  }),
];
