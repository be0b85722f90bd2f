import { jobSchema } from '@/lib/contracts/jobs';
import { undoBodySchema, undoRingSchema, undoSettingsBodySchema } from '@/lib/contracts/undo';
import { defineRoute, refParams } from './route';

// Before /machines/{ref}/{action}: app.ts registers this group ahead of the machine routes.
export const undoRoutes = [
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/undo',
    name: 'getUndoRing',
    tag: 'schedules',
    summary: "A machine's undo ring: its period and size (null when off) and its undo points, newest first",
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: undoRingSchema,
    handler: async ({ core, machine }) => core.undo.get(machine.id),
  }),
  defineRoute({
    method: 'put',
    path: '/machines/{ref}/undo',
    name: 'setUndoRing',
    tag: 'schedules',
    summary: 'Turn the undo ring on or change it: a checkpoint every N minutes (live when running), keeping the newest K, the oldest pruned',
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    body: undoSettingsBodySchema,
    response: undoRingSchema,
    handler: async ({ core, principal, machine, body, ip }) => {
      const r = await core.undo.enable(principal, machine.id, body);
      await core.audit.record(principal, { action: 'undo.enable', target: { kind: 'machine', id: machine.id }, ip, detail: { ...body } });
      return r;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/machines/{ref}/undo',
    name: 'deleteUndoRing',
    tag: 'schedules',
    summary: 'Turn the undo ring off (the undo points taken stay, as snapshots)',
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    response: undoRingSchema,
    handler: async ({ core, principal, machine, ip }) => {
      const r = await core.undo.disable(machine.id);
      await core.audit.record(principal, { action: 'undo.disable', target: { kind: 'machine', id: machine.id }, ip });
      return r;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/undo',
    name: 'undoMachine',
    tag: 'schedules',
    summary: 'Undo the last N minutes: restore the machine to the newest undo point taken at or before then. 409 when the ring is off or holds none that old',
    access: 'operator',
    machineGrant: 'operator',
    status: 202,
    params: refParams,
    body: undoBodySchema,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, machine, body, ip }) => {
      const job = await core.undo.undo(principal, machine.id, body.minutes);
      await core.audit.record(principal, {
        action: 'undo.restore',
        target: { kind: 'machine', id: machine.id },
        ip,
        detail: { minutes: body.minutes, job: job.id },
      });
      return job;
    },
  }),
];
