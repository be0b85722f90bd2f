import { importDiskBodySchema, importDiskQuerySchema } from '@/lib/contracts/disk-images';
import { jobSchema } from '@/lib/contracts/jobs';
import { auditImageImport, saveBody } from './upload';
import { defineRoute } from './route';

/** VM disk images (qcow2 or raw): checked by qemu-img before they are kept, booted with their own kernel and a cloud-init seed. */
export const diskImageRoutes = [
  defineRoute({
    method: 'post',
    path: '/images/disk',
    name: 'importDisk',
    tag: 'images',
    summary: 'Import a VM disk image (the raw body: qcow2 or raw), checked (format, virtual size, no backing file) first; returns the job that keeps it',
    access: 'operator',
    status: 202,
    query: importDiskQuerySchema,
    upload: { type: 'application/octet-stream', description: 'A qcow2 or raw disk; at most the free space of the data dir' },
    response: jobSchema,
    errors: [409],
    handler: async ({ c, core, principal, query, ip }) => {
      const { file, maxBytes } = core.diskImages.uploadTarget();
      await saveBody(c.req.raw.body, file, maxBytes, 'disk image');
      const job = await core.diskImages.importFile(principal, file, query);
      await auditImageImport(core, principal, ip, query.name, job, { file: query.file ?? null });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/images/disk/from',
    name: 'importDiskFrom',
    tag: 'images',
    summary: "Import a VM disk image the server downloads (size-limited, optional SHA-256) or a file on the server (the data dir's imports/ or an allowed dir)",
    access: 'operator',
    status: 202,
    body: importDiskBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.diskImages.importBody(principal, body);
      const from = (body.url ?? body.path ?? '').slice(0, 500);
      await auditImageImport(core, principal, ip, body.name, job, { from });
      return job;
    },
  }),
];
