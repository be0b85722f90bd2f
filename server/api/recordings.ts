import fs from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { listOf, okSchema } from '@/lib/contracts/common';
import { machineSchema } from '@/lib/contracts/machines';
import { patchMachineBodySchema, recordingMarkersSchema, recordingParams, recordingSchema } from '@/lib/contracts/recordings';
import type { RecordingMarker } from '@/lib/recording-markers';
import { padKey, pageOf, timeIdKey, type PageRequest } from '@/server/core/paging';
import { defineRoute, refParams } from './route';

/** In the player's order: a marker's place in the file is its key. */
export function markersPage(markers: RecordingMarker[], page: PageRequest) {
  const p = pageOf(
    markers.map((marker, i) => ({ marker, key: padKey(i) })),
    page,
    (x) => x.key,
  );
  return { items: p.items.map((x) => x.marker), next: p.next };
}

const recParams = refParams.extend(recordingParams.shape);
const downloadQuery = z.object({ download: z.enum(['1', 'true']).optional() });

/** A recording's file as the answer (streamed; `attachment`: as a download under that name). */
export function castResponse(file: string, attachment?: string): Response {
  const headers: Record<string, string> = {
    'content-type': 'application/x-asciicast',
    'cache-control': 'no-store',
    'content-length': String(fs.statSync(file).size),
  };
  if (attachment) headers['content-disposition'] = `attachment; filename="${attachment}"`;
  return new Response(Readable.toWeb(fs.createReadStream(file)) as ReadableStream, { headers });
}

/** A machine's settings, and the recordings of its console sessions (asciicast v2). */
export const recordingRoutes = [
  defineRoute({
    method: 'patch',
    path: '/machines/{ref}',
    name: 'updateMachine',
    tag: 'machines',
    summary: "Change a machine's settings (console recording, tags)",
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    body: patchMachineBodySchema,
    response: machineSchema,
    handler: async ({ core, principal, machine: m, body, ip }) => {
      const changed =
        (body.recordConsole !== undefined && body.recordConsole !== m.recordConsole) || (body.tags !== undefined && body.tags.join(',') !== m.tags.join(','));
      if (changed) {
        await core.machines.patch(m.id, { recordConsole: body.recordConsole, tags: body.tags });
        await core.audit.record(principal, { action: 'machine.settings', target: { kind: 'machine', id: m.id }, ip, detail: body });
      }
      return core.machines.get(principal, m.id);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/recordings',
    name: 'listRecordings',
    tag: 'machines',
    summary: 'Recorded console sessions of a machine, newest first',
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    list: {},
    response: listOf(recordingSchema),
    handler: async ({ core, machine, page }) => pageOf(core.recordings.list(machine.id), page, (r) => timeIdKey(r.startedAt, r.id), true),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/recordings/{id}',
    name: 'getRecording',
    tag: 'machines',
    summary: 'One recording as an asciicast v2 file (?download=1: as an attachment)',
    access: 'viewer',
    machineGrant: 'viewer',
    params: recParams,
    query: downloadQuery,
    response: z.unknown(),
    produces: { type: 'application/x-asciicast', description: 'The recording (asciicast v2: a JSON header line, then one JSON event per line)' },
    handler: async ({ machine: m, core, params, query }) =>
      castResponse(core.recordings.file(m.id, params.id), query.download ? `${m.name}-${params.id}.cast` : undefined),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/recordings/{id}/markers',
    name: 'listRecordingMarkers',
    tag: 'machines',
    summary: "A recording's markers: the machine's checkpoints, restores and forks while it was written, in the player's order",
    access: 'viewer',
    machineGrant: 'viewer',
    params: recParams,
    list: {},
    response: recordingMarkersSchema,
    handler: async ({ core, machine: m, params, page }) => markersPage(await core.recordings.markers(m.id, params.id), page),
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}/recordings/{id}',
    name: 'deleteRecording',
    tag: 'machines',
    summary: 'Delete a recording',
    access: 'operator',
    machineGrant: 'owner',
    params: recParams,
    response: okSchema,
    handler: async ({ core, principal, params, machine: m, ip }) => {
      core.recordings.delete(m.id, params.id);
      await core.audit.record(principal, { action: 'recording.delete', target: { kind: 'machine', id: m.id }, ip, detail: { recording: params.id } });
      return { ok: true as const };
    },
  }),
];
