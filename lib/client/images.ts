import { listOf, okSchema, type PageQuery } from '@/lib/contracts/common';
import { cdromStateSchema, isoSchema, type AddIsoUrlBody, type CdromBody } from '@/lib/contracts/isos';
import { imageSchema, registrySchema, type BuildImageBody, type ImportRootfsUrlBody, type PutRegistryBody } from '@/lib/contracts/images';
import { publishedImageSchema, signingKeySchema, type PublishImageBody, type PullPublishedBody } from '@/lib/contracts/image-publish';
import type { ImportDiskBody } from '@/lib/contracts/disk-images';
import { jobSchema } from '@/lib/contracts/jobs';
import type { Transport } from './transport';

/** Images (built, pulled, imported, published), the ISO library and registries. */
export function imagesApi({ send, call, q }: Transport) {
  return {
    images: {
      list: (p: PageQuery = {}) => call('GET', `/images${q({ ...p })}`, listOf(imageSchema)),
      build: (b: BuildImageBody) => call('POST', '/images', jobSchema, b),
      remove: (id: string) => call('DELETE', `/images/${encodeURIComponent(id)}`, okSchema),
      /** Pull an OCI image from a registry: the pull job (already finished when the image was there). */
      pull: (b: { ref: string; policy?: 'always' | 'missing' }) => call('POST', '/images/pull', jobSchema, b),
      /** Upload an image archive (docker save / podman save / OCI layout tar): the import job. */
      importArchive: async (body: BodyInit, name?: string) =>
        jobSchema.parse(await (await send('POST', `/images/import${q({ name })}`, { body, contentType: 'application/x-tar' })).json()),
      /** Upload a root filesystem tarball (plain or compressed) as image `query.name`: the unpack job. */
      importRootfs: async (body: BodyInit, query: { name: string; sha256?: string; file?: string; allowSetuid?: boolean }) =>
        jobSchema.parse(
          await (
            await send('POST', `/images/rootfs${q({ ...query, allowSetuid: query.allowSetuid ? '1' : undefined })}`, {
              body,
              contentType: 'application/octet-stream',
            })
          ).json(),
        ),
      /** Upload a VM disk image (qcow2 or raw) as image `query.name`: the job that keeps it once checked. */
      importDisk: async (body: BodyInit, query: { name: string; sha256?: string; file?: string }) =>
        jobSchema.parse(await (await send('POST', `/images/disk${q(query)}`, { body, contentType: 'application/octet-stream' })).json()),
      /** A VM disk image the server downloads (url) or takes from a file on the server (path): the job. */
      importDiskFrom: (b: ImportDiskBody) => call('POST', '/images/disk/from', jobSchema, b),
      /** A root filesystem tarball the server downloads: the job. */
      importRootfsUrl: (b: ImportRootfsUrlBody) => call('POST', '/images/rootfs/url', jobSchema, b),
      /** This Hangar's publishing key (public): what other Hangars trust to pull its images. */
      signingKey: () => call('GET', '/images/signing-key', signingKeySchema),
      publish: (name: string, b: PublishImageBody) => call('POST', `/images/${encodeURIComponent(name)}/publish`, jobSchema, b),
      pullPublished: (b: PullPublishedBody) => call('POST', '/images/pull-published', jobSchema, b),
      published: (target: string) => call('GET', `/backup-targets/${encodeURIComponent(target)}/images`, listOf(publishedImageSchema)),
    },
    /** The ISO library (installers for `iso` machines). */
    isos: {
      list: (p: PageQuery = {}) => call('GET', `/isos${q({ ...p })}`, listOf(isoSchema)),
      /** Upload an ISO (the raw bytes) under `name`: kept only when it is ISO 9660 or UDF and within the cap. */
      upload: async (body: BodyInit, name: string) =>
        isoSchema.parse(await (await send('POST', `/isos${q({ name })}`, { body, contentType: 'application/octet-stream' })).json()),
      /** An ISO the server downloads: the job. */
      download: (b: AddIsoUrlBody) => call('POST', '/isos/url', jobSchema, b),
      remove: (name: string) => call('DELETE', `/isos/${encodeURIComponent(name)}`, okSchema),
      /** Eject or insert a disc in a running VM's CD-ROM drive. */
      cdrom: (machine: string, b: CdromBody) => call('POST', `/machines/${encodeURIComponent(machine)}/cdrom`, cdromStateSchema, b),
    },
    registries: {
      list: () => call('GET', '/registries', listOf(registrySchema)),
      put: (host: string, b: PutRegistryBody) => call('PUT', `/registries/${encodeURIComponent(host)}`, registrySchema, b),
      remove: (host: string) => call('DELETE', `/registries/${encodeURIComponent(host)}`, okSchema),
    },
  };
}
