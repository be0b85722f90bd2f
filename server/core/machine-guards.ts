import os from 'node:os';
import type { DriverDescription } from '@/lib/contracts/drivers';
import type { CreateMachineBody, PortForward } from '@/lib/contracts/machines';
import type { BootFiles } from '@/server/drivers/types';
import { loopbackPortFree } from '@/server/drivers/net';
import { BadRequestError, ConflictError, UnavailableError } from './errors';

/** Refuse to start when running machines plus this one would take more than `limit` of host memory. */
export function checkMemory(wantMib: number, runningMib: number, limit: number, totalMib = os.totalmem() / 1048576): void {
  const cap = Math.floor(totalMib * limit);
  if (runningMib + wantMib > cap) {
    throw new ConflictError(
      `Not enough host memory: running machines use ${runningMib} MiB, this one needs ${wantMib} MiB, and ` +
        `the limit is ${cap} MiB (${Math.round(limit * 100)}% of ${Math.round(totalMib)} MiB). Stop a ` +
        `machine or raise the limit in Settings.`,
    );
  }
}

/** Host ports must be free before QEMU tries to bind them (its error would come after a slow start). */
export async function checkPortsFree(ports: PortForward[]): Promise<void> {
  for (const p of ports.filter((x) => x.protocol === 'tcp')) {
    if (!(await loopbackPortFree(p.host))) throw new ConflictError(`Host port ${p.host} is already in use.`);
  }
}

/**
 * What a new machine's body may not ask of its driver, whatever the host: a command where the
 * driver runs no application containers, a network it does not offer, port forwards it cannot
 * make (or not on that network, or not of that protocol). All from the driver's description.
 */
export function checkMachineBody(body: CreateMachineBody, d: DriverDescription): void {
  const bad = (path: string, message: string, text: string) => {
    throw new BadRequestError(text, [{ path, message }]);
  };
  if (!d.create.available) bad('driver', 'not made by create', d.create.reason ?? 'Machines of this driver are not made from an image.');
  if (!body.image === !body.iso) bad(body.iso ? 'iso' : 'image', 'image or iso', 'Give the machine an image, or an ISO to install from (not both).');
  if (body.iso && !d.iso.available) bad('iso', 'not for this driver', d.iso.reason ?? 'This driver installs nothing from an ISO.');
  if (body.firmware && !d.firmwares.includes(body.firmware))
    bad('firmware', `one of ${d.firmwares.join(', ') || 'none'}`, `Firmware "${body.firmware}" is not one ${d.words.kind} machines boot with here.`);
  if (body.command && !d.appContainers.available) bad('command', 'containers only', d.appContainers.reason ?? 'This driver runs no application containers.');
  if (body.entrypoint && !d.appContainers.available)
    bad('entrypoint', 'containers only', d.appContainers.reason ?? 'This driver runs no application containers.');
  if (body.boot && !d.ociBoot.available) bad('boot', 'not for this driver', d.ociBoot.reason ?? 'This driver boots no OCI images.');
  if (body.boot && (body.command || body.entrypoint))
    bad('boot', 'boot, or a command', 'A booted image runs its systemd: give --boot or a command (or entrypoint), not both.');
  // A driver without networks to choose from has its own (a VM's user-mode NAT): the field does not apply.
  if (d.networks.length > 0 && !d.networks.some((n) => n.mode === body.network)) {
    const modes = d.networks.map((n) => n.mode).join(', ');
    bad('network', `one of ${modes}`, `Network "${body.network}" is not one for ${d.words.kind} machines: ${modes}.`);
  }
  if (body.ports.length === 0) return;
  const fwd = d.portForwards;
  if (!fwd.available) bad('ports', 'not for this driver', fwd.reason ?? 'This driver forwards no ports.');
  if (fwd.networks.length > 0 && !fwd.networks.includes(body.network))
    bad('ports', `needs network ${fwd.networks.join(' or ')}`, `Port forwards of a container need its own address: network "${fwd.networks.join('" or "')}".`);
  if (body.ports.some((x) => !fwd.protocols.includes(x.protocol)))
    bad('ports', `${fwd.protocols.join(' or ')} only`, `${d.words.kind} machines forward ${fwd.protocols.join(' and ').toUpperCase()} ports only.`);
}

/** The image must suit the machine: a root filesystem where the driver needs one, a disk no smaller than the image's. */
export function checkImageFits(body: CreateMachineBody, image: BootFiles, d: DriverDescription): void {
  if (d.needsRootfs && !image.rootfs)
    throw new BadRequestError(`Image ${body.image} has no root filesystem for containers: use debian-12.`, [
      { path: 'image', message: 'no root filesystem for containers' },
    ]);
  if (image.kind && !d.imageKinds.includes(image.kind))
    throw new BadRequestError(`${d.words.kind} machines do not run ${image.kind} images (they run: ${d.imageKinds.join(', ')}).`, [
      { path: 'image', message: `not a ${d.imageKinds.join(' or ')} image` },
    ]);
  if ((body.boot || body.entrypoint) && !image.oci)
    throw new BadRequestError(`Image ${body.image} is not an OCI image: ${body.boot ? 'boot' : 'entrypoint'} is for OCI images.`, [
      { path: body.boot ? 'boot' : 'entrypoint', message: 'OCI images only' },
    ]);
  const minGib = Math.ceil(image.diskBytes / 2 ** 30);
  if (minGib > body.diskGib)
    throw new BadRequestError(`Image ${body.image} needs a disk of at least ${minGib} GiB.`, [{ path: 'diskGib', message: `at least ${minGib}` }]);
}

/** The host features the driver needs (and its network, when it has a choice) must be there: else a clear 503, not a job that fails later. */
export function checkHostAllows(kind: string, d: DriverDescription, network: string | null | undefined): void {
  if (!d.available) throw new UnavailableError(`The ${kind} driver is unavailable on this host: ${d.reason ?? 'not probed'}`);
  const net = d.networks.find((n) => n.mode === network);
  if (net && !net.available) throw new UnavailableError(`The ${kind} driver is unavailable on this host: ${net.reason ?? `network ${network} not probed`}`);
}
