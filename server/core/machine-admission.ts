import type { CreateMachineBody, Machine } from '@/lib/contracts/machines';
import type { Store } from '@/db/client';
import { getMachineRow, insertMachine, type MachineRow } from '@/db/repo/machines';
import type { BootFiles, IsoFile } from '@/server/drivers/types';
import type { Principal } from './auth';
import { BadRequestError, ConflictError } from './errors';
import type { EventBus } from './events';
import { newId } from './ids';
import { pullsOci, type ImageService } from './images';
import { checkImageFits, checkMachineBody } from './machine-guards';
import type { MachineViews } from './machine-views';

export interface Admitted {
  machine: Machine;
  image: BootFiles;
  /** Its row as written (the create job goes on from it without reading it again). */
  row: MachineRow;
  /** An ISO install: the library ISO for its CD-ROM drive. */
  iso?: IsoFile;
}

/** An ISO install's "image": nothing to boot directly, no disk to stand on (the driver makes an empty one). */
export const blankBoot = (): BootFiles => ({ image: '', kernel: '', initrd: '', disk: '', append: '', ssh: false, diskBytes: 0 });

/** What admission needs of the machine service. */
export interface AdmissionDeps {
  store: Store;
  images: Pick<ImageService, 'files'>;
  isos: { file(name: string): Promise<IsoFile> };
  bus: EventBus;
  views: MachineViews;
  now: () => number;
  listing: { items(): Promise<Machine[]> };
  requireDriver(kind: Machine['driver'], network?: Machine['network']): Promise<void>;
  preflight(id: string | null, memoryMib: number, ports: Machine['ports']): Promise<void>;
}

/**
 * The checks a new machine must pass, in this order: what its driver's description allows
 * (command, network, forwards), what this host has, a free name, an image that suits it, host
 * ports nobody forwards yet, and (when it starts at once) memory; then its row, `creating`.
 */
export async function admitMachine(
  d: AdmissionDeps,
  p: Principal,
  body: CreateMachineBody,
  files?: BootFiles,
  ownerId = p.user.id,
  copyLater = false,
): Promise<Admitted> {
  const description = d.views.describe(body.driver);
  checkMachineBody(body, description);
  await d.requireDriver(body.driver, body.network);
  if (await getMachineRow(d.store, { name: body.name })) throw new ConflictError(`A machine named "${body.name}" exists already.`);
  const iso = body.iso ? await d.isos.file(body.iso) : undefined;
  // copyLater: an image another node holds is checked as its holder describes it; the caller's job copies it (progress and log).
  const image = files ?? (body.image ? await d.images.files(body.image, { pull: pullsOci(description), copyLater }) : blankBoot());
  checkImageFits(body, image, description);
  // Machines from a built image boot the kernel Hangar passes; an ISO install's or a disk image's guest boots its own.
  if (body.firmware === 'uefi' && !body.iso && !image.ownKernel)
    throw new BadRequestError('UEFI is for ISO installs and disk images: machines from an image boot their kernel directly.', [
      { path: 'firmware', message: 'ISO installs and disk images only' },
    ]);
  // A disk image that boots with UEFI only, on a host without OVMF: refused before anything is made.
  if (!body.firmware && image.firmware && !description.firmwares.includes(image.firmware))
    throw new BadRequestError(
      `Image "${body.image}" boots with ${image.firmware.toUpperCase()} only, which ${description.words.kind} machines cannot here (install ovmf).`,
      [{ path: 'image', message: `needs ${image.firmware.toUpperCase()}` }],
    );
  if (body.userData !== undefined && !image.cloudInit)
    throw new BadRequestError('user-data is for disk images with cloud-init (imported with `hangar images import FILE --disk`).', [
      { path: 'userData', message: 'the image has no cloud-init seed' },
    ]);
  const taken = new Set((await d.listing.items()).flatMap((m) => m.ports.map((x) => `${x.protocol}:${x.host}`)));
  const clash = body.ports.find((x) => taken.has(`${x.protocol}:${x.host}`));
  if (clash) throw new ConflictError(`Host port ${clash.host} is forwarded to another machine already.`);
  if (body.start) await d.preflight(null, body.memoryMib, body.ports);
  const now = d.now();
  const row = await insertMachine(d.store, {
    id: newId('mch'),
    name: body.name,
    driver: body.driver,
    image: body.image ?? '',
    state: 'creating',
    stateReason: null,
    cpus: body.cpus,
    memoryMib: body.memoryMib,
    diskGib: body.diskGib,
    ports: body.ports,
    tags: body.tags,
    ownerId,
    createdAt: now,
    updatedAt: now,
  });
  const machine = d.views.view(row);
  d.bus.publish('machine:update', machine);
  return { machine, image, row, iso };
}
