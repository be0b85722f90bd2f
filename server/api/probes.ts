import { jobSchema } from '@/lib/contracts/jobs';
import { probeBodySchema, uploadedPackageSchema } from '@/lib/contracts/probes';
import { defineRoute } from './route';
import { saveBody } from './upload';

/** Largest package accepted for a probe. */
const MAX_DEB_BYTES = 256 * 2 ** 20;

export const probeRoutes = [
  defineRoute({
    method: 'post',
    path: '/probes/packages',
    name: 'uploadPackage',
    tag: 'probes',
    summary: 'Upload a .deb (the raw file as the body) to probe: its upload id, package name and version; kept an hour',
    access: 'operator',
    status: 201,
    upload: { type: 'application/vnd.debian.binary-package', description: 'A Debian package (at most 256 MiB)' },
    response: uploadedPackageSchema,
    handler: async ({ c, core, principal, ip }) => {
      const { id, file } = core.probes.newUploadFile();
      await saveBody(c.req.raw.body, file, MAX_DEB_BYTES, 'package (.deb)');
      const up = await core.probes.register(id, file);
      await core.audit.record(principal, {
        action: 'probe.upload',
        target: { kind: 'probe', id },
        ip,
        detail: { package: up.package, version: up.version, sizeBytes: up.sizeBytes },
      });
      return up;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/probes',
    name: 'startProbe',
    tag: 'probes',
    summary: 'Probe packages in a throwaway container (install, unit active, URL answers); returns the job, whose result is the report',
    access: 'operator',
    status: 202,
    body: probeBodySchema,
    response: jobSchema,
    errors: [404, 503],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.probes.start(principal, body);
      await core.audit.record(principal, { action: 'probe.start', target: { kind: 'probe', id: job.id }, ip, detail: body });
      return job;
    },
  }),
];
