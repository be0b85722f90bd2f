import { z } from 'zod';
import {
  createdForkLinkSchema,
  forkLinkForkSchema,
  forkLinkSchema,
  openedForkSchema,
  type CreateForkLinkBody,
  type ForkAction,
} from '@/lib/contracts/fork-links';
import {
  createdShareSchema,
  recordingShareInfoSchema,
  shareInfoSchema,
  shareSchema,
  type CreateRecordingShareBody,
  type CreateShareBody,
} from '@/lib/contracts/shares';
import { listOf, type PageQuery } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import { recordingMarkersSchema } from '@/lib/contracts/recordings';
import type { Transport } from './transport';

/** Links for people without an account: console and recording shares, fork links. */
export function sharingApi({ call, q, baseUrl }: Transport) {
  return {
    shares: {
      list: (ref: string, p: PageQuery = {}) => call('GET', `/machines/${encodeURIComponent(ref)}/shares${q({ ...p })}`, listOf(shareSchema)),
      create: (ref: string, b: CreateShareBody) => call('POST', `/machines/${encodeURIComponent(ref)}/shares`, createdShareSchema, b),
      revoke: (id: string) => call('DELETE', `/shares/${encodeURIComponent(id)}`, shareSchema),
      /** With a client made with `share`: what the link opens. */
      info: () => call('GET', '/share', shareInfoSchema),
      /** A read-only link to one recording of the machine (listed and revoked with its other links). */
      createForRecording: (ref: string, id: string, b: CreateRecordingShareBody) =>
        call('POST', `/machines/${encodeURIComponent(ref)}/recordings/${encodeURIComponent(id)}/shares`, createdShareSchema, b),
      /** With a client made with a recording link's `share`: the recording it opens, and its markers. */
      recordingInfo: () => call('GET', '/share/recording', recordingShareInfoSchema),
      recordingMarkers: () => call('GET', '/share/recording/markers', recordingMarkersSchema),
      /** Where a recording link's cast is served (fetched with the link in X-Hangar-Share). */
      recordingCastUrl: () => `${baseUrl}/api/share/recording/cast`,
    },
    forkLinks: {
      list: (p: PageQuery = {}) => call('GET', `/fork-links${q({ ...p })}`, listOf(forkLinkSchema)),
      get: (id: string) => call('GET', `/fork-links/${encodeURIComponent(id)}`, forkLinkSchema),
      create: (b: CreateForkLinkBody) => call('POST', '/fork-links', createdForkLinkSchema, b),
      revoke: (id: string, forks: 'destroy' | 'keep' = 'destroy') => call('DELETE', `/fork-links/${encodeURIComponent(id)}${q({ forks })}`, forkLinkSchema),
      forks: (id: string, p: PageQuery = {}) => call('GET', `/fork-links/${encodeURIComponent(id)}/forks${q({ ...p })}`, listOf(forkLinkForkSchema)),
      act: (id: string, forkId: string, action: ForkAction) =>
        call(
          'POST',
          `/fork-links/${encodeURIComponent(id)}/forks/${encodeURIComponent(forkId)}/${action}`,
          z.object({ fork: forkLinkForkSchema, job: jobSchema.nullable() }),
        ),
      /** No account needed: the opener's own fork (the browser's cookie brings it back). */
      open: (token: string) => call('POST', '/fork-link/open', openedForkSchema, { token }),
    },
  };
}
