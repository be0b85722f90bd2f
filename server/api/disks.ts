import { listOf, okSchema } from '@/lib/contracts/common';
import { addDiskBodySchema, diskNameSchema, machineDiskSchema, patchDiskBodySchema } from '@/lib/contracts/disks';
import { pageOf } from '@/server/core/paging';
import { defineRoute, refParams } from './route';

const diskParams = refParams.extend({ name: diskNameSchema });
/** Disks change what a machine is made of: operators (or an operator grant) change them, viewers see them. */
const change = { tag: 'machines', access: 'operator', machineGrant: 'operator' } as const;

/** A machine's extra disks (VMs) or volumes (containers). Before machineRoutes: /machines/{ref}/{action} would take /disks. */
export const diskRoutes = [
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/disks',
    name: 'listMachineDisks',
    tag: 'machines',
    summary: "A machine's extra disks (VMs: qcow2 block devices) or volumes (containers: host directories), by name",
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    list: {},
    response: listOf(machineDiskSchema),
    handler: async ({ core, machine, page }) => pageOf(await core.disks.list(machine.id), page, (d) => d.name),
  }),
  defineRoute({
    ...change,
    method: 'post',
    path: '/machines/{ref}/disks',
    name: 'addMachineDisk',
    summary: 'Add a disk (sizeGib, bus) or a volume (guestPath); attached at once unless attach is false (hot-plugged into a running VM)',
    status: 201,
    params: refParams,
    body: addDiskBodySchema,
    response: machineDiskSchema,
    errors: [409],
    handler: async ({ core, principal, machine, body, ip }) => {
      const disk = await core.disks.add(machine.id, body);
      await core.audit.record(principal, { action: 'machine.disk.add', target: { kind: 'machine', id: machine.id }, ip, detail: body });
      return disk;
    },
  }),
  defineRoute({
    ...change,
    method: 'patch',
    path: '/machines/{ref}/disks/{name}',
    name: 'changeMachineDisk',
    summary: 'Attach or detach a disk ({attached}), or grow it ({sizeGib}: never smaller); a running VM gets it through hot-plug',
    params: diskParams,
    body: patchDiskBodySchema,
    response: machineDiskSchema,
    errors: [404, 409],
    handler: async ({ core, principal, machine, params, body, ip }) => {
      const disk = await core.disks.patch(machine.id, params.name, body);
      await core.audit.record(principal, {
        action: 'machine.disk.change',
        target: { kind: 'machine', id: machine.id },
        ip,
        detail: { name: params.name, ...body },
      });
      return disk;
    },
  }),
  defineRoute({
    ...change,
    method: 'delete',
    path: '/machines/{ref}/disks/{name}',
    name: 'deleteMachineDisk',
    summary: 'Delete a detached disk or volume and its files (layers frozen in snapshots stay with them)',
    params: diskParams,
    response: okSchema,
    errors: [404, 409],
    handler: async ({ core, principal, machine, params, ip }) => {
      await core.disks.remove(machine.id, params.name);
      await core.audit.record(principal, { action: 'machine.disk.delete', target: { kind: 'machine', id: machine.id }, ip, detail: { name: params.name } });
      return { ok: true as const };
    },
  }),
];
