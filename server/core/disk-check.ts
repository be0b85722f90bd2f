import fs from 'node:fs';
import { formatBytes } from '@/lib/format';
import { firstLine, run } from '@/server/drivers/exec';

/** A disk refused by the checks: the message says why (a 400 before a job, a failed job after). */
export class DiskRefusal extends Error {}

/** The most a disk image's virtual size may be. */
export const MAX_VIRTUAL_BYTES = 2 * 2 ** 40;

export interface CheckedDisk {
  format: 'qcow2' | 'raw';
  virtualBytes: number;
}

interface QemuImgInfo {
  format?: string;
  'virtual-size'?: number;
  'backing-filename'?: string;
  'full-backing-filename'?: string;
  'format-specific'?: { type?: string; data?: { 'data-file'?: string } };
}

/** What the first two sectors show: an MBR's 55 AA signature, or a GPT header ("EFI PART" in LBA 1). */
function hasPartitionTable(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(1024);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    if (n < 1024) return false;
    return head.readUInt16LE(510) === 0xaa55 || head.toString('latin1', 512, 520) === 'EFI PART';
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * What `qemu-img info` says of a file, checked before anything boots it: a qcow2 (standalone: no
 * backing file, no external data file, which could name any file on the host) or a raw disk with
 * a partition table (MBR or GPT; anything else is not a disk image, whatever qemu-img guesses),
 * its virtual size under the cap. The format is forced after the probe, so qemu-img never follows
 * a backing file a crafted header names.
 */
export async function checkDisk(file: string, label: string, maxVirtual = MAX_VIRTUAL_BYTES): Promise<CheckedDisk> {
  const probe = await run(['qemu-img', 'info', '--output=json', '--', file], { timeoutMs: 60_000 });
  if (probe.code !== 0) throw new DiskRefusal(`${label}: qemu-img cannot read it (${firstLine(probe.stderr)})`);
  const info = JSON.parse(probe.stdout) as QemuImgInfo;
  if (info['backing-filename'] || info['full-backing-filename'])
    throw new DiskRefusal(`${label} has a backing file (${info['backing-filename'] ?? info['full-backing-filename']}): only standalone disks are imported`);
  if (info['format-specific']?.data?.['data-file']) throw new DiskRefusal(`${label} keeps its data in an external file: only standalone disks are imported`);
  const format = info.format;
  if (format !== 'qcow2' && format !== 'raw') throw new DiskRefusal(`${label} is a ${format ?? 'unknown'} disk: qcow2 and raw are imported`);
  if (format === 'raw' && !hasPartitionTable(file)) throw new DiskRefusal(`${label} is not a disk image (no qcow2 header, no MBR or GPT partition table)`);
  const virtualBytes = info['virtual-size'] ?? 0;
  if (virtualBytes <= 0) throw new DiskRefusal(`${label} has no size`);
  if (virtualBytes > maxVirtual) throw new DiskRefusal(`${label} is a ${formatBytes(virtualBytes)} disk: more than the ${formatBytes(maxVirtual)} allowed`);
  if (format === 'qcow2') {
    const check = await run(['qemu-img', 'check', '-q', '-f', 'qcow2', '--', file], { timeoutMs: 10 * 60_000 });
    if (check.code !== 0) throw new DiskRefusal(`${label}: its qcow2 structure is damaged (${firstLine(check.stderr || check.stdout)})`);
  }
  return { format, virtualBytes };
}
