import fs from 'node:fs';
import { Readable } from 'node:stream';
import { okSchema } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import {
  moveBodySchema,
  moveCheckBodySchema,
  moveFileParams,
  moveImageBodySchema,
  moveReceiveBodySchema,
  moveReceiveLineSchema,
  moveRefParams,
} from '@/lib/contracts/moves';
import { NODE_HEADERS } from '@/server/core/cluster/cluster';
import { NotFoundError, UnauthorizedError } from '@/server/core/errors';
import { z } from 'zod';
import { defineRoute, refParams } from './route';

/** Moves between nodes (server/core/cluster/moves.ts): the public route, and the routes the two nodes call each other on. */
export const moveRoutes = [
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/move',
    name: 'moveMachine',
    tag: 'machines',
    summary:
      'Move a machine to another node of the cluster (a running VM live: QEMU migration, the guest keeps running; a running container ' +
      'by restart: frozen, copied, started there); returns the job. ' +
      '404 for an unknown node; 409 before anything moves for the same node, a draining one, one without the driver or memory',
    access: 'operator',
    machineGrant: 'operator',
    status: 202,
    params: refParams,
    body: moveBodySchema,
    response: jobSchema,
    errors: [409, 503],
    handler: async ({ core, principal, machine, body, ip }) => {
      const job = await core.moves.move(principal, machine.id, body);
      await core.audit.record(principal, { action: 'machine.move', target: { kind: 'machine', id: machine.id }, ip, detail: { ...body, job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/moves/check',
    name: 'checkMove',
    tag: 'nodes',
    summary: "Would this node take a machine another node moves here: its driver, memory, ports (nodes only: a user's credentials get 401)",
    access: 'node',
    body: moveCheckBodySchema,
    response: okSchema,
    errors: [409],
    handler: async ({ core, body }) => {
      await core.moves.check(body);
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/moves/image',
    name: 'prepareMoveImage',
    tag: 'nodes',
    summary: "Before a container is held for its move here: its image's files made this node's (a copy when another holds them; nodes only)",
    access: 'node',
    body: moveImageBodySchema,
    response: okSchema,
    errors: [404, 409, 503],
    handler: async ({ core, body }) => {
      await core.moves.prepareImage(body);
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/moves/receive',
    name: 'receiveMove',
    tag: 'nodes',
    summary: 'Take a machine another node moves here: fetch and check its files; a live move starts it waiting, a restart starts it (nodes only)',
    access: 'node',
    body: moveReceiveBodySchema,
    response: z.unknown(),
    produces: { type: 'application/x-ndjson', description: 'Progress lines, then `ready` (its record here) or `error`', schema: moveReceiveLineSchema },
    handler: async ({ c, core, body }) => {
      const from = c.req.header(NODE_HEADERS.node);
      if (!from) throw new UnauthorizedError('Only the nodes of this cluster may call this route.');
      return new Response(core.moves.receive(body, from), {
        headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' },
      });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/internal/moves/{id}/files/{name}',
    name: 'moveFile',
    tag: 'nodes',
    summary: "A file of a machine this node is moving, for the node it goes to (nodes only: a user's credentials get 401)",
    access: 'node',
    params: moveFileParams,
    response: z.unknown(),
    produces: { type: 'application/octet-stream', description: "The file's bytes, its length known ahead" },
    handler: async ({ core, params }) => {
      const file = core.moves.file(params.id, params.name);
      if (!file) throw new NotFoundError('Move file');
      const size = fs.statSync(file).size;
      return new Response(Readable.toWeb(fs.createReadStream(file)) as ReadableStream, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      });
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/moves/{id}/settle',
    name: 'settleMove',
    tag: 'nodes',
    summary: 'The sender is done: the moved machine runs on this node (nodes only)',
    access: 'node',
    params: moveRefParams,
    response: okSchema,
    handler: async ({ core, params }) => {
      await core.moves.settle(params.id);
      return { ok: true as const };
    },
  }),
  defineRoute({
    method: 'post',
    path: '/internal/moves/{id}/abort',
    name: 'abortMove',
    tag: 'nodes',
    summary: 'A move failed: this node removes what it made for it (nodes only)',
    access: 'node',
    params: moveRefParams,
    response: okSchema,
    handler: async ({ core, params }) => {
      await core.moves.drop(params.id);
      return { ok: true as const };
    },
  }),
];
