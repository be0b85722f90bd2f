import { Readable } from 'node:stream';
import { z } from 'zod';
import { fileDownloadQuery, filePathQuery, filesPushedSchema, fileStatSchema } from '@/lib/contracts/files';
import { BadRequestError } from '@/server/core/errors';
import { defineRoute, refParams } from './route';

/** Reading a guest's files is like running a command in it: operators, and holders of an operator grant. */
const common = { tag: 'machines', access: 'operator', machineGrant: 'operator', params: refParams } as const;

const bodyOf = (raw: Request): AsyncIterable<Uint8Array> => {
  if (!raw.body) throw new BadRequestError('Send the bytes as the request body.');
  return Readable.fromWeb(raw.body as never);
};

/** A name for Content-Disposition: ASCII kept, the rest in filename* (RFC 6266). */
const disposition = (name: string) => `attachment; filename="${name.replace(/[^\w.-]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`;

/** Files in and out of a running machine (`hangar cp`, the Files tab), through its driver's streamed exec. */
export const fileRoutes = [
  defineRoute({
    ...common,
    method: 'get',
    path: '/machines/{ref}/files',
    name: 'statMachineFile',
    summary: 'What is at a path in a running machine: file (with its size), directory or other',
    query: filePathQuery,
    response: fileStatSchema,
    errors: [409, 503],
    handler: ({ core, machine, query }) => core.files.stat(machine.id, query.path),
  }),
  defineRoute({
    ...common,
    method: 'get',
    path: '/machines/{ref}/files/archive',
    name: 'downloadMachineArchive',
    summary: 'A file or directory of a running machine as a tar stream (its name at the top; modes and owners kept)',
    query: filePathQuery,
    response: z.unknown(),
    produces: { type: 'application/x-tar', description: 'The tar stream; it breaks off if the guest fails midway' },
    errors: [409, 503],
    handler: async ({ c, core, principal, machine: m, query, ip }) => {
      const stream = await core.files.pullArchive(m.id, query.path, c.req.raw.signal);
      await core.audit.record(principal, { action: 'machine.files.pull', target: { kind: 'machine', id: m.id }, ip, detail: { path: query.path } });
      return new Response(Readable.toWeb(stream) as ReadableStream, { headers: { 'content-type': 'application/x-tar', 'cache-control': 'no-store' } });
    },
  }),
  defineRoute({
    ...common,
    method: 'put',
    path: '/machines/{ref}/files/archive',
    name: 'uploadMachineArchive',
    summary: 'Extract a tar stream into a directory of a running machine (members outside it refused)',
    query: filePathQuery,
    upload: { type: 'application/x-tar', description: 'A tar stream; no member may be absolute, hold `..` or pass through a link it made' },
    response: filesPushedSchema,
    errors: [409, 503],
    handler: async ({ c, core, principal, machine: m, query, ip }) => {
      const r = await core.files.pushArchive(m.id, query.path, bodyOf(c.req.raw), c.req.raw.signal);
      await core.audit.record(principal, { action: 'machine.files.push', target: { kind: 'machine', id: m.id }, ip, detail: r });
      return r;
    },
  }),
  defineRoute({
    ...common,
    method: 'get',
    path: '/machines/{ref}/files/content',
    name: 'downloadMachineFile',
    summary: 'One regular file of a running machine, its bytes (?download=1: as an attachment)',
    query: fileDownloadQuery,
    response: z.unknown(),
    produces: { type: 'application/octet-stream', description: "The file's bytes" },
    errors: [409, 503],
    handler: async ({ c, core, principal, machine: m, query, ip }) => {
      const f = await core.files.pullFile(m.id, query.path, c.req.raw.signal);
      await core.audit.record(principal, { action: 'machine.files.pull', target: { kind: 'machine', id: m.id }, ip, detail: { path: query.path } });
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'content-length': String(f.size) };
      if (query.download) headers['content-disposition'] = disposition(f.name);
      return new Response(Readable.toWeb(f.stream) as ReadableStream, { headers });
    },
  }),
  defineRoute({
    ...common,
    method: 'put',
    path: '/machines/{ref}/files/content',
    name: 'uploadMachineFile',
    summary: 'Write one file in a running machine (its directory must exist; replaced whole at the end)',
    query: filePathQuery,
    upload: { type: 'application/octet-stream', description: "The file's bytes" },
    response: filesPushedSchema,
    errors: [409, 503],
    handler: async ({ c, core, principal, machine: m, query, ip }) => {
      const r = await core.files.pushFile(m.id, query.path, bodyOf(c.req.raw), c.req.raw.signal);
      await core.audit.record(principal, { action: 'machine.files.push', target: { kind: 'machine', id: m.id }, ip, detail: r });
      return r;
    },
  }),
];
