import fs from 'node:fs';
import { firstLine, run } from '../exec';
import type { BootFiles, DriverRuntime, MachineSpec } from '../types';
import { machineFiles } from './argv';
import { OVMF, ovmfVarsOf } from './cdrom-argv';
import { qcow2Overlay } from './overlay';
import { qemuRuntimeSchema } from './runtime';
import { seedOf, writeSeed } from './seed';

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
  const firmware = (m.runtime.firmware ?? image.firmware) === 'uefi' ? 'uefi' : 'bios';
  if (firmware === 'uefi') fs.copyFileSync(OVMF.vars, ovmfVarsOf(m.dir));
  const ask = (m.runtime.cloudInit ?? {}) as CloudInitAsk;
  const log = [`disk: qcow2 overlay on disk image ${image.image}, ${firmware.toUpperCase()} boot of its own kernel`];
  let seed: string | undefined;
  if (image.cloudInit) {
    const own = fs.readFileSync(`${f.sshKey}.pub`, 'utf8').trim();
    seed = await writeSeed(m.dir, { instanceId: m.id, hostname: m.name, keys: [own, ...(ask.keys ?? [])], userData: ask.userData });
    log.push(`cloud-init seed (cidata): hostname ${m.name}, ${1 + (ask.keys?.length ?? 0)} SSH key(s)${ask.userData ? ', user-data' : ''}`);
  }
  const cloudInit = image.cloudInit ? { keys: ask.keys ?? [], ...(ask.userData ? { userData: ask.userData } : {}) } : undefined;
  return { runtime: { ssh: image.ssh, ownKernel: true, firmware, ...(seed ? { seed, cloudInit } : {}) }, log };
}

/**
 * A fork's own seed (in its dir, beside the identity branch() copied): its own instance-id and
 * hostname, its source's keys and user-data, host keys kept. At the fork's next boot cloud-init
 * sees a new instance and names it; a live fork is renamed by its fix-ups. A snapshot from before
 * the seed's inputs were kept: its source's seed copied, so the fork never points at another
 * machine's file. Undefined: not a disk image's machine with a seed.
 */
export async function forkSeed(record: Record<string, unknown>, t: { id: string; name: string; dir: string }): Promise<string | undefined> {
  if (record.ownKernel !== true || typeof record.seed !== 'string') return undefined;
  const kept = qemuRuntimeSchema.shape.cloudInit.safeParse(record.cloudInit).data;
  if (!kept) {
    if (!fs.existsSync(record.seed)) return undefined;
    fs.copyFileSync(record.seed, seedOf(t.dir));
    return seedOf(t.dir);
  }
  const own = fs.readFileSync(`${machineFiles(t.dir).sshKey}.pub`, 'utf8').trim();
  return writeSeed(t.dir, { instanceId: t.id, hostname: t.name, keys: [own, ...kept.keys], userData: kept.userData, keepHostKeys: true });
}
