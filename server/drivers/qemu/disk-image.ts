import fs from 'node:fs';
import { firstLine, run } from '../exec';
import type { BootFiles, DriverRuntime, MachineSpec } from '../types';
import { machineFiles } from './argv';
import { OVMF, ovmfVarsOf } from './cdrom-argv';
import { qcow2Overlay } from './overlay';
import { writeSeed } from './seed';

/** What core hands create() for a disk image's machine (runtime.cloudInit): the owner's keys and the user-data asked for. */
interface CloudInitAsk {
  keys?: string[];
  userData?: string;
}

/**
 * A machine from a disk image: a qcow2 overlay on the image's disk, its own key pair, a UEFI
 * variable store when it boots with UEFI, and its cloud-init NoCloud seed (hostname, the
 * machine's key and its owner's keys for root, the user-data asked for). It boots its own
 * kernel from the disk: the start puts the seed in a CD-ROM drive (cdromSpecOf).
 */
export async function createFromDisk(m: MachineSpec, image: BootFiles, disk: string): Promise<{ runtime: DriverRuntime; log: string[] }> {
  await qcow2Overlay(image.disk, disk, m.diskGib);
  const f = machineFiles(m.dir);
  const k = await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `hangar@${m.name}`, '-f', f.sshKey], { timeoutMs: 30_000 });
  if (k.code !== 0) throw new Error(`ssh-keygen failed: ${firstLine(k.stderr)}`);
  const firmware = m.runtime.firmware === 'uefi' ? 'uefi' : 'bios';
  if (firmware === 'uefi') fs.copyFileSync(OVMF.vars, ovmfVarsOf(m.dir));
  const ask = (m.runtime.cloudInit ?? {}) as CloudInitAsk;
  const log = [`disk: qcow2 overlay on disk image ${image.image}, ${firmware.toUpperCase()} boot of its own kernel`];
  let seed: string | undefined;
  if (image.cloudInit) {
    const own = fs.readFileSync(`${f.sshKey}.pub`, 'utf8').trim();
    seed = await writeSeed(m.dir, { instanceId: m.id, hostname: m.name, keys: [own, ...(ask.keys ?? [])], userData: ask.userData });
    log.push(`cloud-init seed (cidata): hostname ${m.name}, ${1 + (ask.keys?.length ?? 0)} SSH key(s)${ask.userData ? ', user-data' : ''}`);
  }
  return { runtime: { ssh: image.ssh, ownKernel: true, firmware, ...(seed ? { seed } : {}) }, log };
}
