import { z } from 'zod';
import { listOf, okSchema } from '@/lib/contracts/common';
import { addIsoUrlBodySchema, cdromBodySchema, cdromStateSchema, isoNameSchema, isoSchema, uploadIsoQuerySchema } from '@/lib/contracts/isos';
import { jobSchema } from '@/lib/contracts/jobs';
import { changeCdrom } from '@/server/core/machine-cdrom';
import { pageOf } from '@/server/core/paging';
import { defineRoute, refParams } from './route';
import { saveBody } from './upload';

const isoParams = z.object({ iso: isoNameSchema });

/** The ISO library (Images page, `hangar isos`, `hangar create --iso`) and a running VM's CD-ROM drive. */
export const isoRoutes = [
  defineRoute({
    method: 'get',
    path: '/isos',
    name: 'listIsos',
    tag: 'images',
    summary: 'ISOs in the library, by name: sizes, formats, and the machines with each in their CD-ROM drive',
    access: 'viewer',
    list: {},
    response: listOf(isoSchema),
    handler: async ({ core, page }) => pageOf(await core.isos.list(), page, (i) => i.name),
  }),
  defineRoute({
    method: 'post',
    path: '/isos',
    name: 'uploadIso',
    tag: 'images',
    summary: 'Upload an ISO (the raw body) into the library: kept only when its volume descriptors say ISO 9660 or UDF and it is within the cap',
    access: 'operator',
    status: 201,
    query: uploadIsoQuerySchema,
    upload: {
      type: 'application/octet-stream',
      description: 'An ISO 9660 or UDF image; at most the ISO cap of Settings (8 GiB by default) and the free space',
    },
    response: isoSchema,
    errors: [409, 413],
    handler: async ({ c, core, principal, query, ip }) => {
      const { file, maxBytes } = core.isos.uploadTarget();
      await saveBody(c.req.raw.body, file, maxBytes, 'ISO');
      const iso = await core.isos.addFile(principal, file, query.name, query.name);
      await core.audit.record(principal, { action: 'iso.add', target: { kind: 'iso', id: iso.name }, ip, detail: { sizeBytes: iso.sizeBytes } });
      return iso;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/isos/url',
    name: 'downloadIso',
    tag: 'images',
    summary: 'Add an ISO the server downloads (http/https; private addresses refused unless Settings allow them); returns the download job',
    access: 'operator',
    status: 202,
    body: addIsoUrlBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.isos.addUrl(principal, body);
      await core.audit.record(principal, {
        action: 'iso.add',
        target: { kind: 'iso', id: body.name },
        ip,
        detail: { job: job.id, url: body.url.slice(0, 500) },
      });
      return job;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/isos/{iso}',
    name: 'deleteIso',
    tag: 'images',
    summary: 'Delete an ISO no machine has in its CD-ROM drive',
    access: 'operator',
    params: isoParams,
    response: okSchema,
    errors: [404, 409],
    handler: async ({ core, principal, params, ip }) => {
      await core.isos.remove(params.iso);
      await core.audit.record(principal, { action: 'iso.delete', target: { kind: 'iso', id: params.iso }, ip });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/cdrom',
    name: 'changeMachineCdrom',
    tag: 'machines',
    summary: "Eject the disc from a running VM's CD-ROM drive, or insert a library ISO (QMP eject / blockdev-change-medium)",
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    body: cdromBodySchema,
    response: cdromStateSchema,
    errors: [404, 409],
    handler: async ({ core, principal, machine, body, ip }) => {
      const iso = await changeCdrom(core.machines, core.isos, machine.id, body);
      await core.audit.record(principal, { action: `machine.cdrom.${body.action}`, target: { kind: 'machine', id: machine.id }, ip, detail: { iso } });
      return { machine: machine.name, iso };
    },
  }),
];
