import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type { DisplayAccess, MachineSpec } from '../types';
import { machineFiles } from './argv';
import { Qmp } from './qmp';
import { pidOf } from './runtime';

/** How much of a state file to read for its RAM block list (written first, before any page). */
const HEADER_BYTES = 1024 * 1024;

/**
 * True when a live snapshot's device state was saved with a VGA device: its RAM block list (at the
 * head of the stream) names the VGA's video memory. Snapshots saved before machines had a screen
 * must be loaded into a QEMU without one, or the load fails on the unknown device.
 */
export function stateHasDisplay(stateFile: string): boolean {
  let fd: number | null = null;
  try {
    fd = fs.openSync(stateFile, 'r');
    const buf = Buffer.alloc(HEADER_BYTES);
    const n = fs.readSync(fd, buf, 0, HEADER_BYTES, 0);
    return buf.subarray(0, n).includes('vga.vram');
  } catch {
    // No state file: a boot, which gets a screen.
    return true;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** A running VM's VNC server (a unix socket in its directory) and QMP screendump on a monitor of its own. */
export const qemuDisplay: DisplayAccess = {
  connect(m: MachineSpec): Promise<Duplex> {
    if (pidOf(m) === null) return Promise.reject(new Error('The machine is not running.'));
    return new Promise((resolve, reject) => {
      const s = net.connect({ path: machineFiles(m.dir).vncSock });
      s.once('connect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  },
  async screenshot(m: MachineSpec): Promise<Buffer> {
    if (pidOf(m) === null) throw new Error('The machine is not running.');
    const f = machineFiles(m.dir);
    // QEMU writes the file itself: a fresh name in the machine's own directory, removed once read.
    const out = path.join(m.dir, `screen-${randomBytes(4).toString('hex')}.png`);
    const q = await Qmp.connect(f.displayQmpSock);
    try {
      await q.execute('screendump', { filename: out, format: 'png' }, 10_000);
      return fs.readFileSync(out);
    } finally {
      q.close();
      fs.rmSync(out, { force: true });
    }
  },
};
