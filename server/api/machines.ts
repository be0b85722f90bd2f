import { z } from 'zod';
import { jobSchema } from '@/lib/contracts/jobs';
import {
  adoptBodySchema,
  bulkBodySchema,
  bulkResultSchema,
  createMachineBodySchema,
  execBodySchema,
  execStreamBodySchema,
  logsQuerySchema,
  logsSchema,
  runOnceBodySchema,
  execResultSchema,
  machineActions,
  machineListSchema,
  machineSchema,
  runOnceEventSchema,
  stopMachineBodySchema,
  unitFileSchema,
} from '@/lib/contracts/machines';
import { hasRole } from '@/lib/roles';
import { bulkAct } from '@/server/core/machine-bulk';
import type { PreparedRun } from '@/server/core/run-once';
import { machineListBody } from '@/server/core/machine-list';
import { pageOf } from '@/server/core/paging';
import { checkPinnedHere } from './pinned-node';
import { defineRoute, refParams } from './route';

export { refParams };
const actionParams = refParams.extend({ action: z.enum(machineActions) });

export const machineRoutes = [
  defineRoute({
    method: 'get',
    path: '/machines',
    name: 'listMachines',
    tag: 'machines',
    summary: 'Machines by name (a member: the ones given to them)',
    access: 'member',
    list: {},
    response: machineListSchema,
    handler: async ({ core, principal, page }) => {
      // Everyone from viewer up sees the same list: its JSON (and pages) are kept until a machine changes.
      const whole = page.limit === undefined && !page.after;
      if (hasRole(principal.role, 'viewer')) return whole ? core.machines.listing.json() : core.machines.listing.page(page.after, page.limit ?? Infinity);
      const mine = pageOf(await core.grants.visible(principal, await core.machines.list(principal)), page, (m) => m.name);
      return machineListBody(mine.items, mine.next);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}',
    // Rows only: any node answers.
    owner: 'any',
    name: 'getMachine',
    tag: 'machines',
    summary: 'One machine, by id or name',
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: machineSchema,
    // The machine the guard loaded, as kept JSON (with its ETag).
    handler: async ({ core, machine }) => (await core.machines.listing.one(machine.id))?.body ?? machine,
  }),
  defineRoute({
    method: 'post',
    path: '/machines',
    owner: 'placement',
    tag: 'machines',
    name: 'createMachine',
    summary: 'Create (and by default start) a machine; returns the job',
    access: 'operator',
    status: 202,
    errors: [404, 409, 503],
    body: createMachineBodySchema,
    response: jobSchema,
    handler: async ({ core, principal, body, ip }) => {
      // In a cluster the guard sent it to the node placement chose (a pin included).
      checkPinnedHere(core, body.node);
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
    path: '/machines/adopt',
    tag: 'machines',
    name: 'adoptMachine',
    summary:
      'Register a machine that exists already, reached over SSH (driver ssh): its host key is pinned and a command run before it is recorded; ' +
      'the private key is kept 0600 on the server and never returned. Unreachable or a refused login: 400, nothing kept',
    access: 'operator',
    status: 201,
    errors: [400, 409],
    body: adoptBodySchema,
    response: machineSchema,
    handler: async ({ core, principal, body, ip }) => {
      const { machine, log } = await core.machines.adopt(principal, body);
      await core.audit.record(principal, {
        action: 'machine.adopt',
        target: { kind: 'machine', id: machine.id },
        ip,
        detail: { name: body.name, ssh: body.ssh, log },
      });
      return machine;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/bulk',
    name: 'bulkMachineAction',
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
    // In a cluster: the node placement picks (by load), or the one `node` names (its stdin follows it there: /machines/{ref}/stdin/{id}).
    owner: 'placement',
    name: 'runOnce',
    tag: 'machines',
    access: 'operator',
    body: runOnceBodySchema,
    response: z.unknown(),
    produces: { type: 'application/x-ndjson', description: 'JSON lines, one event each, as they come', schema: runOnceEventSchema },
    errors: [404, 409, 503],
    summary: 'Run a command once in a fresh application container (docker run): NDJSON lines {t: start|stdout|stderr|exit|error}, streamed as they come',
    handler: async ({ c, core, principal, body, ip }) => {
      const prepared = await core.runs.prepare(principal, body);
      await core.audit.record(principal, {
        action: 'machine.run',
        target: { kind: 'machine', id: prepared.machine.id },
        ip,
        detail: { image: body.image ?? body.ref, driver: body.driver, argv: body.argv.slice(0, 32).map((a) => a.slice(0, 200)), rm: body.rm },
      });
      return eventStream(c.req.raw.signal, prepared);
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/logs',
    name: 'getMachineLogs',
    tag: 'machines',
    summary: "The console log (serial line, or a container's pty) from an offset, or its tail",
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    query: logsQuerySchema,
    response: logsSchema,
    handler: async ({ core, principal, machine, query }) => core.machines.logs(principal, machine.id, query),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/unit',
    name: 'getMachineUnitFile',
    tag: 'machines',
    summary: 'A container as a systemd unit file for the host (nspawn)',
    access: 'operator',
    params: refParams,
    response: unitFileSchema,
    errors: [409],
    handler: async ({ core, principal, machine }) => core.machines.unitFile(principal, machine.id),
  }),
  // Before /{action}: routes match in order, and exec is not an action.
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/exec',
    name: 'execInMachine',
    tag: 'machines',
    summary: 'Run a command (argv) in a running machine: stdout, stderr, exit code',
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    body: execBodySchema,
    response: execResultSchema,
    errors: [409, 503],
    handler: async ({ core, principal, machine: m, body, ip }) => {
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
    path: '/machines/{ref}/exec/stream',
    name: 'execInMachineStreamed',
    tag: 'machines',
    summary:
      'Run a command (argv) in a running machine, its output streamed as NDJSON events as it comes (stdout as it comes, stderr at the end); ' +
      'with stdin: true, the input is taken at /machines/{ref}/stdin/{id} (the start event says the id)',
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    body: execStreamBodySchema,
    response: z.unknown(),
    produces: { type: 'application/x-ndjson', description: 'JSON lines, one event each, as they come', schema: runOnceEventSchema },
    errors: [409],
    handler: async ({ c, core, principal, machine: m, body, ip }) => {
      const prepared = await core.runs.prepareExec(principal, m.id, body);
      await core.audit.record(principal, {
        action: 'machine.exec',
        target: { kind: 'machine', id: m.id },
        ip,
        detail: { argv: body.argv.slice(0, 32).map((a) => a.slice(0, 200)), streamed: true, stdin: body.stdin },
      });
      return eventStream(c.req.raw.signal, prepared);
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/{action}',
    name: 'machineAction',
    tag: 'machines',
    summary: 'start | stop | restart | pause | resume; returns the job',
    access: 'operator',
    machineGrant: 'operator',
    status: 202,
    params: actionParams,
    body: stopMachineBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, params, machine, body, ip }) => {
      const job = await core.machines.act(principal, machine.id, params.action, body);
      await core.audit.record(principal, { action: `machine.${params.action}`, target: { kind: 'machine', id: job.machineId }, ip, detail: body });
      return job;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}',
    name: 'destroyMachine',
    tag: 'machines',
    summary: 'Destroy a machine and its disk; returns the job',
    access: 'operator',
    machineGrant: 'owner',
    status: 202,
    params: refParams,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, machine, ip }) => {
      const job = await core.machines.destroy(principal, machine.id);
      await core.audit.record(principal, { action: 'machine.destroy', target: { kind: 'machine', id: job.machineId }, ip });
      return job;
    },
  }),
];

/**
 * A prepared run's events as an NDJSON response, each as it comes; the caller going away (Ctrl-C) stops the command. The
 * run is told when the caller's queue (64 events) has room again, so a slow reader slows the command, not the server's memory.
 */
function eventStream(callerGone: AbortSignal, prepared: PreparedRun): Response {
  const abort = new AbortController();
  callerGone.addEventListener('abort', () => abort.abort(), { once: true });
  const enc = new TextEncoder();
  let ctl: ReadableStreamDefaultController<Uint8Array> | null = null;
  let waiting: (() => void)[] = [];
  const wake = () => {
    const w = waiting;
    waiting = [];
    for (const f of w) f();
  };
  const room = () => (ctl === null || abort.signal.aborted || (ctl.desiredSize ?? 1) > 0 ? Promise.resolve() : new Promise<void>((r) => waiting.push(r)));
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        ctl = c;
        void prepared
          .run(
            (e) => {
              if (!abort.signal.aborted) c.enqueue(enc.encode(`${JSON.stringify(e)}\n`));
            },
            abort.signal,
            room,
          )
          .finally(() => {
            if (!abort.signal.aborted) c.close();
          });
      },
      pull() {
        wake();
      },
      cancel() {
        abort.abort();
        wake();
      },
    },
    { highWaterMark: 64 },
  );
  return new Response(stream, { headers: { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' } });
}
