import { z } from 'zod';
import { ID_PATTERN, NAME_PATTERN, listOf } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import {
  bulkBodySchema,
  bulkResultSchema,
  createMachineBodySchema,
  execBodySchema,
  logsQuerySchema,
  logsSchema,
  runOnceBodySchema,
  execResultSchema,
  machineActions,
  machineSchema,
  stopMachineBodySchema,
  unitFileSchema,
} from '@/lib/contracts/machines';
import { hasRole } from '@/lib/roles';
import { bulkAct } from '@/server/core/machine-bulk';
import { defineRoute } from './route';

/** A machine by id or by name: names never contain `_`, ids always do, so the two cannot collide. */
export const refParams = z.object({ ref: z.string().refine((s) => ID_PATTERN.test(s) || NAME_PATTERN.test(s), 'a machine id or name') });
const actionParams = refParams.extend({ action: z.enum(machineActions) });

export const machineRoutes = [
  defineRoute({
    method: 'get',
    path: '/machines',
    tag: 'machines',
    summary: 'Machines (a member: the ones given to them)',
    access: 'member',
    response: listOf(machineSchema),
    // Sent as the cached JSON: the same bytes for every caller until a machine changes.
    handler: async ({ c, core, principal }) => {
      // The whole list, gzipped once per change, to every client that takes gzip (browsers, fetch).
      if (hasRole(principal.role, 'viewer') && /\bgzip\b/.test(c.req.header('accept-encoding') ?? ''))
        return new Response(new Uint8Array(await core.machines.listGzip(principal)), {
          headers: { 'content-type': 'application/json; charset=UTF-8', 'content-encoding': 'gzip', vary: 'accept-encoding', 'cache-control': 'no-store' },
        }) as never;
      // A member sees the machines given to them; everyone else the whole (cached) list.
      const json = hasRole(principal.role, 'viewer')
        ? await core.machines.listJson(principal)
        : JSON.stringify({ items: await core.grants.visible(principal, await core.machines.list(principal)) });
      return new Response(json, { headers: { 'content-type': 'application/json; charset=UTF-8', 'cache-control': 'no-store' } }) as never;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}',
    tag: 'machines',
    summary: 'One machine, by id or name',
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: machineSchema,
    handler: async ({ core, principal, params }) => core.machines.get(principal, params.ref),
  }),
  defineRoute({
    method: 'post',
    path: '/machines',
    tag: 'machines',
    summary: 'Create (and by default start) a machine; returns the job',
    access: 'operator',
    status: 202,
    body: createMachineBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, body, ip }) => {
      const job = await core.machines.create(principal, body);
      await core.audit.record(principal, {
        action: 'machine.create',
        target: { kind: 'machine', id: job.machineId },
        ip,
        detail: { name: body.name, image: body.image },
      });
      return job;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/bulk',
    tag: 'machines',
    access: 'member',
    body: bulkBodySchema,
    response: bulkResultSchema,
    summary: 'One action on several machines: each authorized (global role or grant), started as its own job and audited; refusals are reported per machine',
    handler: async ({ core, principal, body, ip }) => bulkAct(core, principal, body, ip),
  }),
  defineRoute({
    method: 'post',
    path: '/machines/run',
    tag: 'machines',
    access: 'operator',
    body: runOnceBodySchema,
    response: z.unknown(),
    summary: 'Run a command once in a fresh application container (docker run): NDJSON lines {t: start|stdout|stderr|exit|error}, streamed as they come',
    handler: async ({ c, core, principal, body, ip }) => {
      const prepared = await core.runs.prepare(principal, body);
      await core.audit.record(principal, {
        action: 'machine.run',
        target: { kind: 'machine', id: prepared.machine.id },
        ip,
        detail: { image: body.image, driver: body.driver, argv: body.argv.slice(0, 32).map((a) => a.slice(0, 200)), rm: body.rm },
      });
      // The caller going away (Ctrl-C on hangar run) kills the command.
      const abort = new AbortController();
      c.req.raw.signal.addEventListener('abort', () => abort.abort(), { once: true });
      const enc = new TextEncoder();
      const stream = new ReadableStream<Uint8Array>({
        start(ctl) {
          void prepared
            .run((e) => {
              if (!abort.signal.aborted) ctl.enqueue(enc.encode(`${JSON.stringify(e)}\n`));
            }, abort.signal)
            .finally(() => {
              if (!abort.signal.aborted) ctl.close();
            });
        },
        cancel() {
          abort.abort();
        },
      });
      return new Response(stream, { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } });
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/logs',
    tag: 'machines',
    summary: "The console log (serial line, or a container's pty) from an offset, or its tail",
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    query: logsQuerySchema,
    response: logsSchema,
    handler: async ({ core, principal, params, query }) => core.machines.logs(principal, params.ref, query),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/unit',
    tag: 'machines',
    summary: 'A container as a systemd unit file for the host (nspawn)',
    access: 'operator',
    params: refParams,
    response: unitFileSchema,
    handler: async ({ core, principal, params }) => core.machines.unitFile(principal, params.ref),
  }),
  // Before /{action}: routes match in order, and exec is not an action.
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/exec',
    tag: 'machines',
    summary: 'Run a command (argv) in a running machine: stdout, stderr, exit code',
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    body: execBodySchema,
    response: execResultSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const m = await core.machines.get(principal, params.ref);
      await core.audit.record(principal, {
        action: 'machine.exec',
        target: { kind: 'machine', id: m.id },
        ip,
        detail: { argv: body.argv.slice(0, 32).map((a) => a.slice(0, 200)) },
      });
      return core.machines.exec(principal, m.id, body);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/{action}',
    tag: 'machines',
    summary: 'start | stop | restart | pause | resume; returns the job',
    access: 'operator',
    machineGrant: 'operator',
    status: 202,
    params: actionParams,
    body: stopMachineBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, params, body, ip }) => {
      const job = await core.machines.act(principal, params.ref, params.action, body);
      await core.audit.record(principal, { action: `machine.${params.action}`, target: { kind: 'machine', id: job.machineId }, ip, detail: body });
      return job;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}',
    tag: 'machines',
    summary: 'Destroy a machine and its disk; returns the job',
    access: 'operator',
    machineGrant: 'owner',
    status: 202,
    params: refParams,
    response: jobSchema,
    handler: async ({ core, principal, params, ip }) => {
      const job = await core.machines.destroy(principal, params.ref);
      await core.audit.record(principal, { action: 'machine.destroy', target: { kind: 'machine', id: job.machineId }, ip });
      return job;
    },
  }),
];
