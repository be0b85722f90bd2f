import fs from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { listOf, okSchema } from '@/lib/contracts/common';
import { machineSchema } from '@/lib/contracts/machines';
import { patchMachineBodySchema, recordingParams, recordingSchema } from '@/lib/contracts/recordings';
import { refParams } from './machines';
import { defineRoute } from './route';

const recParams = refParams.extend(recordingParams.shape);
const downloadQuery = z.object({ download: z.enum(['1', 'true']).optional() });

/** A machine's settings, and the recordings of its console sessions (asciicast v2). */
export const recordingRoutes = [
  defineRoute({
    method: 'patch',
    path: '/machines/{ref}',
    tag: 'machines',
    summary: "Change a machine's settings (console recording, tags)",
    access: 'operator',
    machineGrant: 'owner',
    params: refParams,
    body: patchMachineBodySchema,
    response: machineSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const m = await core.machines.get(principal, params.ref);
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
    tag: 'machines',
    summary: 'Recorded console sessions of a machine, newest first',
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: listOf(recordingSchema),
    handler: async ({ core, principal, params }) => {
      const m = await core.machines.get(principal, params.ref);
      return { items: core.recordings.list(m.id) };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/recordings/{id}',
    tag: 'machines',
    summary: 'One recording as an asciicast v2 file (?download=1: as an attachment)',
    access: 'viewer',
    machineGrant: 'viewer',
    params: recParams,
    query: downloadQuery,
    response: z.unknown(),
    handler: async ({ core, principal, params, query }) => {
      const m = await core.machines.get(principal, params.ref);
      const file = core.recordings.file(m.id, params.id);
      const headers: Record<string, string> = {
        'content-type': 'application/x-asciicast',
        'cache-control': 'no-store',
        'content-length': String(fs.statSync(file).size),
      };
      if (query.download) headers['content-disposition'] = `attachment; filename="${m.name}-${params.id}.cast"`;
      return new Response(Readable.toWeb(fs.createReadStream(file)) as ReadableStream, { headers });
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}/recordings/{id}',
    tag: 'machines',
    summary: 'Delete a recording',
    access: 'operator',
    machineGrant: 'owner',
    params: recParams,
    response: okSchema,
    handler: async ({ core, principal, params, ip }) => {
      const m = await core.machines.get(principal, params.ref);
      core.recordings.delete(m.id, params.id);
      await core.audit.record(principal, { action: 'recording.delete', target: { kind: 'machine', id: m.id }, ip, detail: { recording: params.id } });
      return { ok: true as const };
    },
  }),
];
