import { z } from 'zod';
import { publishedImageSchema, publishImageBodySchema, pullPublishedBodySchema, signingKeySchema } from '@/lib/contracts/image-publish';
import { listOf } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import { pageOf } from '@/server/core/paging';
import { defineRoute } from './route';

const nameParams = z.object({ name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an image name') });
const targetParams = z.object({ target: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a target id or name') });

/** The image server: publish an image to a backup target, pull a published one (signed, checked) from a target or a URL. */
export const imagePublishRoutes = [
  defineRoute({
    method: 'get',
    path: '/images/signing-key',
    name: 'getImageSigningKey',
    tag: 'images',
    summary: "This Hangar's Ed25519 publishing key (public half): other Hangars add it to their trusted publishers to pull its images",
    access: 'viewer',
    response: signingKeySchema,
    handler: async ({ core }) => core.imagePublish.signingKey(),
  }),
  defineRoute({
    method: 'post',
    path: '/images/{name}/publish',
    name: 'publishImage',
    tag: 'images',
    summary: 'Publish an image to a backup target as images/NAME/VERSION/ (a gzip tar and a signed manifest with its SHA-256); returns the job',
    access: 'operator',
    status: 202,
    params: nameParams,
    body: publishImageBodySchema,
    response: jobSchema,
    errors: [404, 409],
    handler: async ({ core, principal, params, body, ip }) => {
      const job = await core.imagePublish.publish(principal, params.name, body);
      await core.audit.record(principal, { action: 'image.publish', target: { kind: 'image', id: params.name }, ip, detail: { job: job.id, ...body } });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/images/pull-published',
    name: 'pullPublishedImage',
    tag: 'images',
    summary:
      'Pull a published image from a backup target or the URL one is served under: signature, size and SHA-256 checked before it exists; returns the job',
    access: 'operator',
    status: 202,
    body: pullPublishedBodySchema,
    response: jobSchema,
    errors: [404, 409],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.imagePublish.pull(principal, body);
      await core.audit.record(principal, {
        action: 'image.pull',
        target: { kind: 'image', id: body.as ?? body.image },
        ip,
        detail: { job: job.id, source: body.source.slice(0, 500), image: body.image, version: body.version ?? null },
      });
      return job;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/backup-targets/{target}/images',
    name: 'listPublishedImages',
    tag: 'images',
    summary: 'The images published to a backup target, newest first (name, version, kind, size, publisher fingerprint)',
    access: 'operator',
    params: targetParams,
    list: {},
    response: listOf(publishedImageSchema),
    errors: [404],
    handler: async ({ core, params, page }) => pageOf((await core.imagePublish.list(params.target)).items, page, (i) => `${i.name}:${i.version}`),
  }),
];
