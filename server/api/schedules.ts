import { idParams, listOf } from '@/lib/contracts/common';
import { jobSchema } from '@/lib/contracts/jobs';
import { createMachineScheduleBodySchema, createScheduleBodySchema, scheduleSchema, type Schedule } from '@/lib/contracts/schedules';
import { pageOf, timeIdKey } from '@/server/core/paging';
import { defineRoute, refParams } from './route';

/** What the audit log keeps of a schedule. */
const detail = (s: Schedule) => ({ machine: s.machineName, tag: s.tag, cron: s.cron, timeZone: s.timeZone, keep: s.keep });
const key = (s: Schedule) => timeIdKey(s.createdAt, s.id);

// Before /machines/{ref}/{action}: app.ts registers this group ahead of the machine routes.
export const scheduleRoutes = [
  defineRoute({
    method: 'get',
    path: '/schedules',
    name: 'listSchedules',
    tag: 'schedules',
    summary: 'Snapshot schedules (per machine and per tag), oldest first, with their next run and last run',
    access: 'viewer',
    list: {},
    response: listOf(scheduleSchema),
    handler: async ({ core, page }) => pageOf(await core.schedules.list(), page, key),
  }),
  defineRoute({
    method: 'post',
    path: '/schedules',
    name: 'createSchedule',
    tag: 'schedules',
    summary:
      'Add a snapshot schedule for a machine or every machine with a tag: a cron in a time zone and a retention like restic forget --keep-*. ' +
      'A cron that does not parse, an unknown time zone, or a retention that keeps nothing is a 400 naming the field; an unknown machine a 404',
    access: 'operator',
    status: 201,
    body: createScheduleBodySchema,
    response: scheduleSchema,
    errors: [404],
    handler: async ({ core, principal, body, ip }) => {
      const s = await core.schedules.create(principal, body);
      await core.audit.record(principal, { action: 'schedule.create', target: { kind: 'schedule', id: s.id }, ip, detail: detail(s) });
      return s;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/schedules/{id}',
    name: 'getSchedule',
    tag: 'schedules',
    summary: 'One schedule',
    access: 'viewer',
    params: idParams,
    response: scheduleSchema,
    handler: async ({ core, params }) => core.schedules.get(params.id),
  }),
  defineRoute({
    method: 'delete',
    path: '/schedules/{id}',
    name: 'deleteSchedule',
    tag: 'schedules',
    summary: 'Delete a schedule (the snapshots it took stay, as ordinary snapshots)',
    access: 'operator',
    params: idParams,
    response: scheduleSchema,
    handler: async ({ core, principal, params, ip }) => {
      const s = await core.schedules.remove(params.id);
      await core.audit.record(principal, { action: 'schedule.delete', target: { kind: 'schedule', id: s.id }, ip, detail: detail(s) });
      return s;
    },
  }),
  defineRoute({
    method: 'post',
    path: '/schedules/{id}/run',
    name: 'runSchedule',
    tag: 'schedules',
    summary: 'Run a schedule now (checkpoint, then prune by its retention); its next run stays. 409 while it runs',
    access: 'operator',
    status: 202,
    params: idParams,
    response: jobSchema,
    errors: [409],
    handler: async ({ core, principal, params, ip }) => {
      const job = await core.schedules.runNow(principal, params.id);
      await core.audit.record(principal, { action: 'schedule.run', target: { kind: 'schedule', id: params.id }, ip, detail: { job: job.id } });
      return job;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/schedules',
    // Rows only: any node answers.
    owner: 'any',
    name: 'listMachineSchedules',
    tag: 'schedules',
    summary: "A machine's snapshot schedules: its own and those of its tags",
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    list: {},
    response: listOf(scheduleSchema),
    handler: async ({ core, machine, page }) => pageOf(await core.schedules.forMachine(machine), page, key),
  }),
  defineRoute({
    method: 'post',
    path: '/machines/{ref}/schedules',
    // Rows only: any node answers.
    owner: 'any',
    name: 'createMachineSchedule',
    tag: 'schedules',
    summary: 'Add a snapshot schedule for this machine (cron, time zone, retention; each checked as for POST /schedules)',
    access: 'operator',
    machineGrant: 'operator',
    status: 201,
    params: refParams,
    body: createMachineScheduleBodySchema,
    response: scheduleSchema,
    handler: async ({ core, principal, machine, body, ip }) => {
      const s = await core.schedules.create(principal, { ...body, machine: machine.id });
      await core.audit.record(principal, { action: 'schedule.create', target: { kind: 'schedule', id: s.id }, ip, detail: detail(s) });
      return s;
    },
  }),
];
