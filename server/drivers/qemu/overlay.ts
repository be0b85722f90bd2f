import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstLine, run } from '../exec';
import { backingFile } from './qcow2';

/** A new qcow2 layer on `backing` (`-u`: the backing file is not opened, only named). */
export async function qcow2Overlay(backing: string, file: string, diskGib: number, unsafe = false): Promise<void> {
  const r = await run(['qemu-img', 'create', '-q', '-f', 'qcow2', ...(unsafe ? ['-u'] : []), '-b', backing, '-F', 'qcow2', file, `${diskGib}G`], {
    timeoutMs: 30_000,
  });
  if (r.code !== 0) throw new Error(`qemu-img create failed: ${firstLine(r.stderr)}`);
}

/** Where a snapshot keeps an empty overlay on its frozen layer, for a disk of `diskGib`. */
const templateOf = (snapDir: string, diskGib: number) => path.join(snapDir, `overlay-${diskGib}G.qcow2`);

/** The virtual size a qcow2 header gives (u64 at 24), or -1. */
export function virtualSize(file: string): number {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(32);
    return fs.readSync(fd, head, 0, 32, 0) === 32 && head.readUInt32BE(0) === 0x514649fb ? Number(head.readBigUInt64BE(24)) : -1;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Keep a copy of a fresh overlay on a snapshot's frozen layer (just made, nothing written to it
 * yet) for later restores and forks. Best effort: without it they run qemu-img.
 */
export function keepTemplate(fresh: string, snapDir: string, diskGib: number): void {
  const tmp = `${templateOf(snapDir, diskGib)}.${randomBytes(4).toString('hex')}.part`;
  try {
    fs.copyFileSync(fresh, tmp);
    fs.renameSync(tmp, templateOf(snapDir, diskGib));
  } catch {
    fs.rmSync(tmp, { force: true });
  }
}

/**
 * A new writable layer on a snapshot's frozen layer: a copy of the snapshot's empty overlay when
 * it has one naming that layer with that size (a copy takes well under a millisecond, qemu-img
 * tens of them), else made by qemu-img and kept as the template.
 */
export async function overlayOn(frozen: string, snapDir: string, file: string, diskGib: number): Promise<void> {
  const template = templateOf(snapDir, diskGib);
  try {
    if (backingFile(template) === path.resolve(frozen) && virtualSize(template) === diskGib * 2 ** 30) {
      fs.copyFileSync(template, file);
      return;
    }
  } catch {
    // No template (an imported snapshot, or one made before templates): qemu-img below.
  }
  await qcow2Overlay(frozen, file, diskGib);
  keepTemplate(file, snapDir, diskGib);
}
