import type { CdromBody } from '@/lib/contracts/isos';
import type { IsoFile } from '@/server/drivers/types';
import { BadRequestError, ConflictError } from './errors';
import type { MachineService } from './machines';

/**
 * Eject or insert a disc in a running VM's CD-ROM drive (machines whose capabilities say `iso`):
 * live, through the driver; QEMU's refusal is the 409's message. Returns the ISO now in the drive.
 */
export async function changeCdrom(
  machines: MachineService,
  isos: { file(name: string): Promise<IsoFile> },
  id: string,
  body: CdromBody,
): Promise<string | null> {
  if (body.action === 'insert' && !body.iso) throw new BadRequestError('Which ISO? Insert needs `iso`.', [{ path: 'iso', message: 'required to insert' }]);
  const iso = body.action === 'insert' && body.iso ? await isos.file(body.iso) : null;
  const { row, spec } = await machines.spec(id);
  const m = machines.views.view(row);
  if (!m.capabilities.iso.available) throw new ConflictError(m.capabilities.iso.reason ?? 'This machine has no CD-ROM drive.');
  const driver = machines.driver(row.driver);
  if (!driver.cdrom) throw new ConflictError('This machine has no CD-ROM drive.');
  if (m.state !== 'running' || !driver.isRunning(spec))
    throw new ConflictError(`${row.name} is ${m.state}: start it, then change the disc (the drive is changed live).`);
  const change = driver.cdrom;
  machines.locks.lock(id, `changing the CD (${body.action})`);
  try {
    const runtime = await change.change(spec, iso).catch((err: Error) => {
      throw new ConflictError(`QEMU refused to ${body.action} the disc: ${err.message}`);
    });
    await machines.patch(id, { runtime });
  } finally {
    machines.locks.unlock(id);
  }
  return iso?.name ?? null;
}
