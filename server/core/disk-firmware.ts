import fs from 'node:fs';
import path from 'node:path';
import { firstLine, run } from '@/server/drivers/exec';

export type Firmware = 'bios' | 'uefi';

/** What a disk's first sectors hold: the protective MBR, the GPT header and (usually) its partition entries. */
export const HEAD_SECTORS = 34;
const SECTOR = 512;
const ESP_GUID = 'c12a7328-f81f-11d2-ba4b-00a0c93ec93b';
const BIOS_BOOT_GUID = '21686148-6449-6e6f-744e-656564454649';

/** A GPT type GUID as written (mixed endian: the first three fields little-endian). */
function guidAt(b: Buffer, at: number): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Buffer.from(b.subarray(at + from, at + to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

/**
 * How a disk image boots, read off its partition table: UEFI when it has an EFI system partition
 * and nothing a BIOS could start (on GPT: no BIOS boot partition, where GRUB keeps its core; on an
 * MBR: no boot code in its first 440 bytes); BIOS otherwise, which is also what a hybrid disk
 * (both, as Debian's and Ubuntu's cloud images are) gets. `head` is the disk's first sectors.
 */
export function firmwareOf(head: Buffer): Firmware {
  if (head.length < 2 * SECTOR || head.readUInt16LE(510) !== 0xaa55) return 'bios';
  if (head.toString('latin1', SECTOR, SECTOR + 8) === 'EFI PART') {
    const entriesLba = Number(head.readBigUInt64LE(SECTOR + 72));
    const count = head.readUInt32LE(SECTOR + 80);
    const size = head.readUInt32LE(SECTOR + 84);
    if (size < 128) return 'bios';
    const types = new Set<string>();
    for (let i = 0; i < Math.min(count, 256); i++) {
      const at = entriesLba * SECTOR + i * size;
      if (at + 16 > head.length) break;
      types.add(guidAt(head, at));
    }
    return types.has(ESP_GUID) && !types.has(BIOS_BOOT_GUID) ? 'uefi' : 'bios';
  }
  const kinds = [0, 1, 2, 3].map((i) => head[446 + i * 16 + 4]);
  const bootCode = head.subarray(0, 440).some((x) => x !== 0);
  return kinds.includes(0xef) && !bootCode ? 'uefi' : 'bios';
}

/** The firmware a disk image (`format` qcow2 or raw) boots with, read with `qemu-img dd` (no mount, no device) into a file beside it. */
export async function diskFirmware(disk: string, format: 'qcow2' | 'raw'): Promise<Firmware> {
  const head = path.join(path.dirname(disk), `.head-${path.basename(disk)}`);
  try {
    const r = await run(['qemu-img', 'dd', '-f', format, '-O', 'raw', `bs=${SECTOR}`, `count=${HEAD_SECTORS}`, `if=${disk}`, `of=${head}`], {
      timeoutMs: 60_000,
    });
    if (r.code !== 0) throw new Error(`qemu-img dd could not read the disk's partition table: ${firstLine(r.stderr)}`);
    return firmwareOf(fs.readFileSync(head));
  } finally {
    fs.rmSync(head, { force: true });
  }
}
