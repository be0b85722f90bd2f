import { idParams, listOf, okSchema } from '@/lib/contracts/common';
import {
  buildImageBodySchema,
  imageSchema,
  imageBootSchema,
  importImageQuerySchema,
  importRootfsQuerySchema,
  importRootfsUrlBodySchema,
  pullImageBodySchema,
  putRegistryBodySchema,
  registryParams,
  registrySchema,
} from '@/lib/contracts/images';
import { jobSchema } from '@/lib/contracts/jobs';
import { pageOf } from '@/server/core/paging';
import { auditImageImport, saveBody } from './upload';
import { defineRoute } from './route';
import { streamFile } from './stream-file';
import { z } from 'zod';
import { getImageRow } from '@/db/repo/images';
import { NotFoundError } from '@/server/core/errors';

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
    owner: { image: 'id' },
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
  defineRoute({
    method: 'get',
    path: '/internal/images/{id}/archive',
    name: 'imageCopyArchive',
    tag: 'nodes',
    summary: "An image this node holds, as its archive, for another node's copy (nodes only: a user's credentials get 401)",
    access: 'node',
    params: idParams,
    response: z.unknown(),
    produces: {
      type: 'application/x-tar',
      description: 'The archive (manifest, checksums, files; an OCI image: a docker-archive), its length known ahead (a cut transfer is told by it)',
    },
    errors: [409],
    handler: async ({ core, params }) => {
      const row = await getImageRow(core.store, { id: params.id });
      if (!row) throw new NotFoundError('Image');
      return streamFile(await core.imageCopies.pack(row));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/internal/images/{id}/boot',
    name: 'imageCopyBoot',
    tag: 'nodes',
    summary: "How an image this node holds boots, for a node that will copy it (nodes only: a user's credentials get 401)",
    access: 'node',
    params: idParams,
    response: imageBootSchema,
    errors: [409],
    handler: async ({ core, params }) => {
      const row = await getImageRow(core.store, { id: params.id });
      if (!row) throw new NotFoundError('Image');
      return core.imageCopies.bootOf(row);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/image-copies/sweep',
    name: 'sweepImageCopies',
    tag: 'nodes',
    summary: "Remove this node's copies of images that were deleted (nodes only: the node that deleted one asks)",
    access: 'node',
    response: z.object({ removed: z.number().int().nonnegative() }),
    handler: async ({ core }) => ({ removed: await core.imageCopies.sweep() }),
  }),
  defineRoute({
    method: 'post',
    path: '/images/pull',
    name: 'pullImage',
    tag: 'images',
    summary: 'Pull an OCI image from a registry (checked first: the ref, the registry, the platform, the space); returns the pull job',
    access: 'operator',
    status: 202,
    body: pullImageBodySchema,
    response: jobSchema,
    errors: [404, 409],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.images.oci.pull(principal, body);
      await core.audit.record(principal, { action: 'image.pull', target: { kind: 'image', id: body.ref.slice(0, 200) }, ip, detail: { job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/images/import',
    name: 'importImage',
    tag: 'images',
    summary: 'Import an image archive (the raw tar as the body: docker save, podman save, or an OCI layout in a tar); returns the import job',
    access: 'operator',
    status: 202,
    query: importImageQuerySchema,
    upload: {
      type: 'application/x-tar',
      description: 'One image: a docker-archive (manifest.json) or an oci-archive (oci-layout, index.json); at most the free space of the data dir',
    },
    response: jobSchema,
    handler: async ({ c, core, principal, query, ip }) => {
      const { file, maxBytes } = core.images.oci.uploadTarget();
      await saveBody(c.req.raw.body, file, maxBytes, 'image archive (docker save or an OCI layout in a tar)');
      const job = await core.images.oci.importArchive(principal, file, query.name ?? 'upload.tar');
      await auditImageImport(core, principal, ip, null, job, { name: query.name ?? null });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/images/rootfs',
    name: 'importRootfs',
    tag: 'images',
    summary: 'Import a root filesystem tarball (the raw body: .tar, .tar.gz, .tar.xz, .tar.zst), checked entry by entry first; returns the unpack job',
    access: 'operator',
    status: 202,
    query: importRootfsQuerySchema,
    upload: {
      type: 'application/octet-stream',
      description: 'A tar of a root filesystem, plain or compressed (known by its bytes); at most the free space of the data dir',
    },
    response: jobSchema,
    errors: [409],
    handler: async ({ c, core, principal, query, ip }) => {
      const { file, maxBytes } = core.images.rootfs.uploadTarget();
      await saveBody(c.req.raw.body, file, maxBytes, 'root filesystem tarball');
      const job = await core.images.rootfs.importFile(principal, file, { ...query, allowSetuid: query.allowSetuid !== undefined });
      await auditImageImport(core, principal, ip, query.name, job, { file: query.file ?? null });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/images/rootfs/url',
    name: 'importRootfsUrl',
    tag: 'images',
    summary: 'Import a root filesystem tarball the server downloads (size-limited, optional SHA-256 checked before use); returns the job',
    access: 'operator',
    status: 202,
    body: importRootfsUrlBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.images.rootfs.importUrl(principal, body);
      await auditImageImport(core, principal, ip, body.name, job, { url: body.url.slice(0, 500) });
      return job;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/registries',
    name: 'listRegistries',
    tag: 'images',
    summary: 'Registries with settings of their own (insecure switch, CA, whether credentials are kept; never a password)',
    access: 'admin',
    list: {},
    response: listOf(registrySchema),
    handler: async ({ core, page }) => pageOf(await core.registries.list(), page, (r) => r.host),
  }),
  defineRoute({
    method: 'put',
    path: '/registries/{host}',
    name: 'putRegistry',
    tag: 'images',
    summary: 'Set how a registry is reached: TLS verification, its CA, credentials (checked against it before they are kept)',
    access: 'admin',
    params: registryParams,
    body: putRegistryBodySchema,
    response: registrySchema,
    errors: [404],
    handler: async ({ core, principal, params, body, ip }) => {
      const r = await core.registries.put(params.host, body);
      await core.audit.record(principal, {
        action: 'registry.put',
        target: { kind: 'registry', id: r.host },
        ip,
        detail: { insecure: r.insecure, username: r.username },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/registries/{host}',
    name: 'deleteRegistry',
    tag: 'images',
    summary: "Forget a registry's settings and credentials",
    access: 'admin',
    params: registryParams,
    response: okSchema,
    errors: [404],
    handler: async ({ core, principal, params, ip }) => {
      await core.registries.remove(params.host);
      await core.audit.record(principal, { action: 'registry.delete', target: { kind: 'registry', id: params.host }, ip });
      return { ok: true as const };
    },
  }),
];
