import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import { buildImageBodySchema, imageSchema } from '@/lib/contracts/images';
import { jobSchema } from '@/lib/contracts/jobs';
import { defineRoute } from './route';

export const imageRoutes = [
  defineRoute({
    method: 'get',
    path: '/images',
    tag: 'images',
    summary: 'Base images',
    access: 'viewer',
    response: listOf(imageSchema),
    handler: async ({ core }) => ({ items: await core.images.list() }),
  }),
  defineRoute({
    method: 'post',
    path: '/images',
    tag: 'images',
    summary: 'Build an image; returns the build job',
    access: 'operator',
    status: 202,
    body: buildImageBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.images.build(principal, body);
      await core.audit.record(principal, { action: 'image.build', target: { kind: 'image', id: body.kind }, ip, detail: { job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/images/{id}',
    tag: 'images',
    summary: 'Delete an image no machine uses',
    access: 'operator',
    params: idParams,
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      await core.images.remove(params.id);
      await core.audit.record(principal, { action: 'image.delete', target: { kind: 'image', id: params.id }, ip });
      return { ok: true as const };
    },
  }),
];
