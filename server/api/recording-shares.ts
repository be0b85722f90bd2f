import { z } from 'zod';
import { recordingMarkersSchema, recordingParams } from '@/lib/contracts/recordings';
import { createdShareSchema, createRecordingShareBodySchema, recordingShareInfoSchema } from '@/lib/contracts/shares';
import { castResponse, markersPage } from './recordings';
import { defineRoute, refParams } from './route';

/**
 * Recording links: a share link of the kind that opens one recording (its cast and markers),
 * read-only, for someone without an account. Listed and revoked with the machine's other share
 * links (GET /machines/{ref}/shares, DELETE /shares/{id}). The routes a link's holder calls take
 * no id: the link says which recording, so it cannot ask for another (route.ts lets a recording
 * link call these and nothing else; sockets and the screen refuse it).
 */
export const recordingShareRoutes = [
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/recordings/{id}/shares',
    // Rows only: any node answers.
    owner: 'any',
    name: 'createRecordingShare',
    tag: 'shares',
    summary: 'Make a read-only link to this one recording, with an expiry (the token is returned once)',
    access: 'operator',
    machineGrant: 'owner',
    status: 201,
    params: refParams.extend(recordingParams.shape),
    body: createRecordingShareBodySchema,
    response: createdShareSchema,
    handler: async ({ core, principal, machine, params, body, ip }) => {
      const r = await core.shares.create(principal, machine.id, { ...body, role: 'viewer', recordingId: params.id });
      await core.audit.record(principal, {
        action: 'share.create',
        target: { kind: 'machine', id: r.share.machineId },
        ip,
        detail: { shareId: r.share.id, recording: params.id, expiresAt: r.share.expiresAt, label: r.share.label },
      });
      return r;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/share/recording',
    name: 'getRecordingShareInfo',
    tag: 'shares',
    summary: 'For the holder of a recording link (X-Hangar-Share): the recording it opens, and until when',
    access: 'viewer',
    share: 'recording',
    response: recordingShareInfoSchema,
    // Called without a recording link, or its recording was deleted.
    errors: [404],
    handler: async ({ core, principal }) => core.shares.recordingInfo(principal),
  }),
  defineRoute({
    method: 'get',
    path: '/share/recording/cast',
    name: 'getSharedRecording',
    tag: 'shares',
    summary: "For the holder of a recording link: the recording's asciicast v2 file",
    access: 'viewer',
    share: 'recording',
    response: z.unknown(),
    produces: { type: 'application/x-asciicast', description: 'The recording (asciicast v2: a JSON header line, then one JSON event per line)' },
    errors: [404],
    handler: async ({ core, principal }) => {
      const { machineId, recordingId } = core.shares.recordingOf(principal);
      return castResponse(core.recordings.file(machineId, recordingId));
    },
  }),
  defineRoute({
    method: 'get',
    path: '/share/recording/markers',
    name: 'listSharedRecordingMarkers',
    tag: 'shares',
    summary: "For the holder of a recording link: the recording's markers, in the player's order",
    access: 'viewer',
    share: 'recording',
    list: {},
    response: recordingMarkersSchema,
    errors: [404],
    handler: async ({ core, principal, page }) => {
      const { machineId, recordingId } = core.shares.recordingOf(principal);
      return markersPage(await core.recordings.markers(machineId, recordingId), page);
    },
  }),
];
