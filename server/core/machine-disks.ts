import type { AddDiskBody, MachineDisk, PatchDiskBody } from '@/lib/contracts/disks';
import type { Machine } from '@/lib/contracts/machines';
import type { MachineRow } from '@/db/repo/machines';
import type { DiskAccess, DriverRuntime, MachineSpec } from '@/server/drivers/types';
import { BadRequestError, ConflictError, HangarError, NotFoundError } from './errors';
import type { MachineService } from './machines';

/** States in which a machine's disks may change: not while it starts, stops, or is being made. */
const SETTLED: Machine['state'][] = ['stopped', 'failed', 'running', 'paused'];
const LIVE: Machine['state'][] = ['running', 'paused'];

/**
 * Extra disks (VMs) and volumes (containers) of a machine. What a machine has and can do is its
 * driver's description (`capabilities.disks`): asked here, never the driver's name. Each change
 * holds the machine's lock (no checkpoint meanwhile) and is written to its record at once.
 */
export class MachineDisks {
  constructor(private readonly machines: MachineService) {}

  async list(ref: string): Promise<MachineDisk[]> {
    const { spec, access } = await this.open(ref);
    return access ? access.list(spec) : [];
  }

  async add(ref: string, body: AddDiskBody): Promise<MachineDisk> {
    return this.change(ref, async ({ m, spec, access }) => {
      const caps = m.capabilities.disks;
      if (access.list(spec).some((d) => d.name === body.name)) throw new ConflictError(`${m.name} has a disk named "${body.name}" already.`);
      if (caps.kind === 'disk') {
        if (body.sizeGib === undefined) throw new BadRequestError('Give the new disk a size (sizeGib).', [{ path: 'sizeGib', message: 'required' }]);
        if (body.guestPath !== undefined) throw new BadRequestError(`${m.name}'s disks are block devices: they have no guest path.`);
        if (!caps.buses.includes(body.bus)) throw new BadRequestError(`${m.name} has no ${body.bus} bus (it has ${caps.buses.join(', ')}).`);
      } else {
        if (body.guestPath === undefined)
          throw new BadRequestError('Say where the volume goes in the guest (guestPath).', [{ path: 'guestPath', message: 'required' }]);
        if (body.sizeGib !== undefined) throw new BadRequestError(`${m.name}'s volumes are host directories: they have no size.`);
        if (access.list(spec).some((d) => d.guestPath === body.guestPath))
          throw new ConflictError(`A volume of ${m.name} is mounted at ${body.guestPath} already.`);
      }
      if (body.attach) this.assertCanPlug(m);
      const runtime = await access.add(spec, {
        name: body.name,
        sizeGib: body.sizeGib ?? null,
        bus: body.bus,
        guestPath: body.guestPath ?? null,
        attach: body.attach,
      });
      return { runtime, name: body.name };
    });
  }

  async patch(ref: string, name: string, body: PatchDiskBody): Promise<MachineDisk> {
    return this.change(ref, async ({ m, spec, access }) => {
      const disk = this.find(access, spec, name, m);
      if (body.attached !== undefined) {
        if (disk.attached === body.attached) return { runtime: spec.runtime, name };
        this.assertCanPlug(m);
        return { runtime: await access.setAttached(spec, name, body.attached), name };
      }
      const size = body.sizeGib!;
      if (!m.capabilities.disks.resize.available || !access.resize)
        throw new ConflictError(`${name}: ${m.capabilities.disks.resize.reason ?? 'it cannot be resized'}`);
      if (disk.sizeGib !== null && size < disk.sizeGib)
        throw new BadRequestError(`Disks only grow: "${name}" has ${disk.sizeGib} GiB, and shrinking it would cut off the guest's data.`, [
          { path: 'sizeGib', message: `at least ${disk.sizeGib}` },
        ]);
      if (size === disk.sizeGib) return { runtime: spec.runtime, name };
      return { runtime: await access.resize(spec, name, size), name };
    });
  }

  async remove(ref: string, name: string): Promise<void> {
    await this.change(ref, async ({ m, spec, access }) => {
      const disk = this.find(access, spec, name, m);
      if (disk.attached) throw new ConflictError(`"${name}" is attached to ${m.name}: detach it first.`);
      return { runtime: await access.remove(spec, name), name: null };
    });
  }

  private find(access: DiskAccess, spec: MachineSpec, name: string, m: Machine): MachineDisk {
    const disk = access.list(spec).find((d) => d.name === name);
    if (!disk) throw new NotFoundError(`Disk "${name}" of ${m.name}`);
    return disk;
  }

  /** A running machine takes disks only where its driver hot-plugs them. */
  private assertCanPlug(m: Machine): void {
    const hot = m.capabilities.disks.hotplug;
    if (LIVE.includes(m.state) && !hot.available) throw new ConflictError(`${m.name} is ${m.state}: ${hot.reason ?? 'stop it first'}`);
  }

  private async open(ref: string): Promise<{ row: MachineRow; m: Machine; spec: MachineSpec; access: DiskAccess | null }> {
    const row = await this.machines.row(ref);
    const m = this.machines.views.view(row);
    const access = m.capabilities.disks.available ? (this.machines.driver(row.driver).disks ?? null) : null;
    return { row, m, spec: this.machines.toSpec(row), access };
  }

  /** Under the machine's lock: the driver's change, written to the record; the disk as it is then. */
  private async change(
    ref: string,
    fn: (o: { m: Machine; spec: MachineSpec; access: DiskAccess }) => Promise<{ runtime: DriverRuntime; name: string | null }>,
  ): Promise<MachineDisk> {
    const { m, access } = await this.open(ref);
    if (!access) throw new ConflictError(`${m.name} takes no extra disks: ${m.capabilities.disks.reason ?? 'its driver has none'}`);
    if (!SETTLED.includes(m.state)) throw new ConflictError(`${m.name} is ${m.state}: wait until it is running or stopped.`);
    this.machines.locks.assertFree(m.id);
    this.machines.locks.lock(m.id, 'disks');
    try {
      // Read again under the lock: the record the driver changes is the current one.
      const spec = this.machines.toSpec(await this.machines.row(m.id));
      let done: { runtime: DriverRuntime; name: string | null };
      try {
        done = await fn({ m, spec, access });
      } catch (err) {
        // The host's or the guest's answer (qemu-img, QMP): the request conflicts with the machine as it is.
        if (err instanceof HangarError) throw err;
        throw new ConflictError(err instanceof Error ? err.message : String(err));
      }
      if (done.runtime !== spec.runtime) await this.machines.patch(m.id, { runtime: done.runtime });
      const after = done.name ? access.list({ ...spec, runtime: done.runtime }).find((d) => d.name === done.name) : undefined;
      return after ?? { name: '', kind: m.capabilities.disks.kind, sizeGib: null, bus: null, guestPath: null, attached: false, usedBytes: null };
    } finally {
      this.machines.locks.unlock(m.id);
    }
  }
}
