import os from 'node:os';
import type { CreateMachineBody, PortForward } from '@/lib/contracts/machines';
import type { BootFiles } from '@/server/drivers/types';
import { loopbackPortFree } from '@/server/drivers/net';
import { BadRequestError, ConflictError } from './errors';

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

/** What a new machine's body may not ask, whatever the host: combinations of driver, network, ports, command and image. */
export function checkMachineBody(body: CreateMachineBody): void {
  const bad = (path: string, message: string, text: string) => {
    throw new BadRequestError(text, [{ path, message }]);
  };
  if (body.command && body.driver === 'qemu')
    bad('command', 'containers only', 'A command (application container) needs a container driver: nspawn or podman.');
  if (body.driver === 'qemu') return;
  if (body.driver === 'podman' && body.network === 'nat')
    bad('network', 'nspawn only', 'NAT networking is for nspawn containers; podman ones are private or on the host network.');
  if (body.ports.length > 0 && body.network !== 'nat') bad('ports', 'needs network nat', 'Port forwards of a container need its own address: network "nat".');
  if (body.ports.some((x) => x.protocol !== 'tcp')) bad('ports', 'tcp only', 'Containers forward TCP ports only.');
}

/** The image must suit the machine: a root filesystem for containers, a disk no smaller than the image's. */
export function checkImageFits(body: CreateMachineBody, image: BootFiles): void {
  if (body.driver !== 'qemu' && !image.rootfs)
    throw new BadRequestError(`Image ${body.image} has no root filesystem for containers: use debian-12.`, [
      { path: 'image', message: 'no root filesystem for containers' },
    ]);
  const minGib = Math.ceil(image.diskBytes / 2 ** 30);
  if (minGib > body.diskGib)
    throw new BadRequestError(`Image ${body.image} needs a disk of at least ${minGib} GiB.`, [{ path: 'diskGib', message: `at least ${minGib}` }]);
}
