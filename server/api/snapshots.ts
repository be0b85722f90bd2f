import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { listOf, okSchema } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import {
  checkpointBodySchema,
  forkBodySchema,
  gcResultSchema,
  hotBodySchema,
  restoreBodySchema,
  snapshotPatchSchema,
  snapshotForkBodySchema,
  snapshotSchema,
} from '@/lib/contracts/snapshots';
import { ConflictError } from '@/server/core/errors';
import { pageOf, padKey } from '@/server/core/paging';
import { checkPinnedHere } from './pinned-node';
import { defineRoute, refParams } from './route';
import { streamFile } from './stream-file';
import { saveBody } from './upload';

/** Largest archive accepted: a 16 GiB guest's RAM plus a big disk. */
const MAX_ARCHIVE_BYTES = 64 * 2 ** 30;

/** Every snapshot route names it the same way (SnapshotService.resolve): its id, or its label when exactly one snapshot has it. */
const snapshotRefParams = z.object({
  ref: z
    .string()
    .min(1)
    .max(120)
    // eslint-disable-next-line no-control-regex -- labels cannot hold them either (labelSchema)
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'no control characters')
    .describe('a snapshot id, or its label when exactly one snapshot has it (several: 409 listing them)'),
});

const deleteQuery = z.object({ cascade: z.enum(['true', 'false']).optional() });

export const snapshotRoutes = [
  defineRoute({
    method: 'get',
    path: '/snapshots',
    name: 'listSnapshots',
    tag: 'snapshots',
    summary: 'The snapshot tree (nodes with parent ids, and the machines on each), oldest first: a parent comes before its children',
    access: 'viewer',
    list: {},
    response: listOf(snapshotSchema),
    handler: async ({ core, page }) => pageOf(await core.snapshots.list(), page, (s) => `${padKey(s.createdAt)}:${s.id}`),
  }),
  defineRoute({
    method: 'post',
    path: '/snapshots/gc',
    name: 'collectGarbage',
    tag: 'snapshots',
    summary: 'Remove unreferenced disk layers, stray snapshot files and failed snapshots nothing depends on',
    access: 'operator',
    response: gcResultSchema,
    handler: async ({ core, principal, ip }) => {
      // The step cache's limits first: what it lets go, the file collection then sweeps.
      const steps = await core.steps.cleanup();
      const files = await core.snapshots.gc();
      const images = await core.images.oci.gc();
      const r = { ...files, freedBytes: files.freedBytes + steps.freedBytes + images.freedBytes, removedSteps: steps.removed, removedImages: images.removed };
      await core.audit.record(principal, { action: 'snapshot.gc', target: { kind: 'snapshot', id: null }, ip, detail: { ...r } });
      return r;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/snapshots/import',
    name: 'importSnapshot',
    tag: 'snapshots',
    summary: 'Import a snapshot archive (the raw tar as the body) as a new root of the tree',
    access: 'operator',
    status: 201,
    upload: { type: 'application/x-tar', description: 'An archive made by hangar snapshot export (at most 64 GiB)' },
    errors: [409],
    response: snapshotSchema,
    handler: async ({ c, core, principal, ip }) => {
      const file = path.join(core.snapshots.tmpDir(), `upload-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.tar`);
      try {
        await saveBody(c.req.raw.body, file, MAX_ARCHIVE_BYTES, 'snapshot archive (hangar snapshot export makes one)');
        const snap = await core.snapshots.importArchive(file);
        await core.audit.record(principal, { action: 'snapshot.import', target: { kind: 'snapshot', id: snap.id }, ip, detail: { label: snap.label } });
        return snap;
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
  }),
  defineRoute({
    method: 'get',
    path: '/snapshots/{ref}/export',
    owner: { snapshot: 'ref' },
    name: 'exportSnapshot',
    tag: 'snapshots',
    summary: 'Download a snapshot as one archive (tar: state, RAM, flattened disk, checksums, manifest)',
    access: 'operator',
    params: snapshotRefParams,
    response: z.unknown(),
    produces: { type: 'application/x-tar', description: 'The archive (an attachment)' },
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      const { id } = await core.snapshots.resolve(params.ref);
      const { file, name } = await core.snapshots.exportArchive(id);
      await core.audit.record(principal, { action: 'snapshot.export', target: { kind: 'snapshot', id }, ip });
      return streamFile(file, { 'content-disposition': `attachment; filename="${name}"` });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/snapshots/{ref}',
    owner: 'any',
    name: 'getSnapshot',
    tag: 'snapshots',
    summary: 'One snapshot',
    access: 'viewer',
    params: snapshotRefParams,
    response: snapshotSchema,
    errors: [409],
    handler: async ({ core, params }) => core.snapshots.get(params.ref),
  }),
  defineRoute({
    method: 'post',
    path: '/snapshots/{ref}/hot',
    owner: { snapshot: 'ref' },
    name: 'setSnapshotHot',
    tag: 'snapshots',
    summary: 'Keep a snapshot hot (processes started ahead for its forks) or not',
    access: 'operator',
    params: snapshotRefParams,
    body: hotBodySchema,
    response: snapshotSchema,
    errors: [409],
    handler: async ({ core, principal, params, body, ip }) => {
      const { id } = await core.snapshots.resolve(params.ref);
      await core.audit.record(principal, { action: 'snapshot.hot', target: { kind: 'snapshot', id }, ip, detail: body });
      return core.snapshots.setHot(id, body.hot);
    },
  }),
  defineRoute({
    method: 'patch',
    path: '/snapshots/{ref}',
    owner: 'any',
    name: 'relabelSnapshot',
    tag: 'snapshots',
    summary: 'Rename a snapshot',
    access: 'operator',
    params: snapshotRefParams,
    body: snapshotPatchSchema,
    response: snapshotSchema,
    errors: [409],
    handler: async ({ core, principal, params, body, ip }) => {
      const { id } = await core.snapshots.resolve(params.ref);
      await core.audit.record(principal, { action: 'snapshot.relabel', target: { kind: 'snapshot', id }, ip, detail: body });
      return core.snapshots.relabel(id, body.label);
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/snapshots/{ref}',
    owner: { snapshot: 'ref' },
    name: 'deleteSnapshot',
    tag: 'snapshots',
    summary: 'Delete a snapshot (?cascade=true: with everything below it)',
    access: 'operator',
    params: snapshotRefParams,
    query: deleteQuery,
    response: okSchema,
    errors: [409],
    handler: async ({ core, principal, params, query, ip }) => {
      const { id } = await core.snapshots.resolve(params.ref);
      await core.snapshots.remove(id, query.cascade === 'true');
      await core.audit.record(principal, { action: 'snapshot.delete', target: { kind: 'snapshot', id }, ip, detail: query });
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/snapshots/{ref}/restore',
    // The machine's node: a snapshot another node holds is copied there first (cluster/replicas.ts).
    owner: { snapshot: 'ref', machine: 'machine' },
    name: 'restoreSnapshot',
    tag: 'snapshots',
    summary: 'Put a machine back to this snapshot; returns the job',
    access: 'operator',
    status: 202,
    errors: [409],
    params: snapshotRefParams,
    body: restoreBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const { id } = await core.snapshots.resolve(params.ref);
      const job = await core.snapshots.restore(principal, id, body);
      await core.audit.record(principal, { action: 'snapshot.restore', target: { kind: 'snapshot', id }, ip, detail: { ...body, job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/snapshots/{ref}/fork',
    // Where its files are, or the node the body names (the snapshot is copied there first: cluster/replicas.ts).
    owner: { snapshot: 'ref', pin: 'node' },
    name: 'forkSnapshot',
    tag: 'snapshots',
    summary: 'Start N new machines from this snapshot; returns the job',
    access: 'operator',
    status: 202,
    errors: [404, 409],
    params: snapshotRefParams,
    body: snapshotForkBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const { id } = await core.snapshots.resolve(params.ref);
      const { node, ...forkBody } = body;
      checkPinnedHere(core, node);
      const job = await core.snapshots.fork(principal, id, forkBody);
      await core.audit.record(principal, { action: 'snapshot.fork', target: { kind: 'snapshot', id }, ip, detail: { ...body, job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/internal/snapshots/{ref}/archive',
    name: 'replicaArchive',
    tag: 'nodes',
    summary: "A snapshot this node holds, as its archive, for another node's replica (nodes only: a user's credentials get 401)",
    access: 'node',
    params: snapshotRefParams,
    response: z.unknown(),
    produces: { type: 'application/x-tar', description: 'The archive, its length known ahead (the receiver tells a cut transfer by it)' },
    errors: [409],
    handler: async ({ core, params }) => {
      const snap = await core.snapshots.resolve(params.ref);
      if (!core.replicas.holds(snap)) throw new ConflictError('This node does not hold that snapshot (ask the node that made it).');
      const { file } = await core.snapshots.exportArchive(snap.id);
      return streamFile(file);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/replicas/sweep',
    name: 'sweepReplicas',
    tag: 'nodes',
    summary: "Remove this node's copies of snapshots that were deleted (nodes only: the node that deleted them asks)",
    access: 'node',
    response: z.object({ removed: z.number().int().nonnegative() }),
    handler: async ({ core }) => ({ removed: await core.replicas.sweep() }),
  }),
  // Before /machines/{ref}/{action}: app.ts registers this group ahead of the machine routes.
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/checkpoint',
    name: 'checkpointMachine',
    tag: 'snapshots',
    summary: 'Checkpoint a machine (live when running); returns the job',
    access: 'operator',
    machineGrant: 'operator',
    status: 202,
    params: refParams,
    body: checkpointBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, machine, body, ip }) => {
      const job = await core.snapshots.checkpoint(principal, machine.id, body.label);
      await core.audit.record(principal, { action: 'machine.checkpoint', target: { kind: 'machine', id: job.machineId }, ip, detail: { job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/fork',
    name: 'forkMachineNow',
    tag: 'snapshots',
    summary: 'Fork now: checkpoint and start N copies from that instant; returns the job',
    access: 'operator',
    status: 202,
    params: refParams,
    body: forkBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, machine, body, ip }) => {
      const job = await core.snapshots.forkNow(principal, machine.id, body);
      await core.audit.record(principal, { action: 'machine.fork', target: { kind: 'machine', id: job.machineId }, ip, detail: { ...body, job: job.id } });
      return job;
    },
  }),
];
