import path from 'node:path';
import { run } from '../exec';
import type { ExtraDiskArchiver } from '../types';
import { extrasOf } from './disks-argv';

/** An extra disk's archive member: named by its slot (fixed for the disk's life, one per slot). */
const memberOf = (slot: number) => `disk-${slot}.qcow2`;

/** A VM's extra disks in archives and backups: `disk-SLOT.qcow2` each, the record's files replaced on import. */
export const qemuExtraDisks: ExtraDiskArchiver = {
  members: [...Array(15).keys()].map(memberOf),
  of(record) {
    return extrasOf(record).disks.map((d) => ({ member: memberOf(d.slot), frozen: d.file }));
  },
  place(record, files) {
    const disks = extrasOf(record).disks.map((d) => {
      const file = files.get(memberOf(d.slot));
      if (!file) throw new Error(`disk "${d.name}" has no ${memberOf(d.slot)}`);
      return { ...d, file };
    });
    return { ...record, disks };
  },
};

/** A qcow2 file in an unpacked archive that stands alone: no backing or external data file that could point anywhere on this host. */
export async function checkStandalone(dir: string, name: string): Promise<void> {
  const info = await run(['qemu-img', 'info', '--output=json', path.join(dir, name)], { timeoutMs: 30_000 });
  const disk =
    info.code === 0
      ? (JSON.parse(info.stdout) as { format?: string; 'backing-filename'?: string; 'format-specific'?: { data?: { 'data-file'?: string } } })
      : null;
  if (!disk || disk.format !== 'qcow2') throw new Error(`${name} is not a qcow2 image`);
  if (disk['backing-filename'] || disk['format-specific']?.data?.['data-file']) throw new Error(`${name} refers to other files`);
}
