import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import { buildImageBodySchema, imageSchema } from '@/lib/contracts/images';
import { jobSchema } from '@/lib/contracts/jobs';
import { pageOf } from '@/server/core/paging';
import { defineRoute } from './route';

export const imageRoutes = [
  defineRoute({
    method: 'get',
    path: '/images',
    name: 'listImages',
    tag: 'images',
    summary: 'Base images, by name',
    access: 'viewer',
    list: {},
    response: listOf(imageSchema),
    handler: async ({ core, page }) => pageOf(await core.images.list(), page, (i) => i.name),
  }),
  defineRoute({
    method: 'post',
    path: '/images',
    name: 'buildImage',
    tag: 'images',
    summary: 'Build an image; returns the build job',
    access: 'operator',
    status: 202,
    body: buildImageBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.images.build(principal, body);
      await core.audit.record(principal, { action: 'image.build', target: { kind: 'image', id: body.kind }, ip, detail: { job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/images/{id}',
    name: 'deleteImage',
    tag: 'images',
    summary: 'Delete an image no machine uses',
    access: 'operator',
    params: idParams,
    response: okSchema,
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      await core.images.remove(params.id);
      await core.audit.record(principal, { action: 'image.delete', target: { kind: 'image', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
];
