import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { firstLine, run } from '../exec';
import type { SnapshotArchiver } from '../types';
import { checkStandalone, qemuExtraDisks } from './archive-disks';
import { checkStateFile } from './snapshot';

/** What a QEMU snapshot's manifest must say about the machine it came from. */
const recordSchema = z.looseObject({
  cpus: z.number().int().min(1).max(64),
  memoryMib: z
    .number()
    .int()
    .min(64)
    .max(1 << 20),
  diskGib: z.number().int().min(1).max(4096),
  ssh: z.boolean(),
});

/**
 * QEMU snapshot archives: the state and RAM files, the SSH identity, and the disk flattened
 * into one standalone qcow2 (the chain of layers and the image below it), each extra disk too.
 */
export const qemuArchiver: SnapshotArchiver = {
  members: ['state', 'ram', 'id_ed25519', 'id_ed25519.pub', 'ssh_host_key.sha256'],
  summed: ['state', 'ram'],
  // RAM may have gone into the state stream (a snapshot of a restored machine): only the state must be there.
  liveRequired: ['state'],
  disk: 'disk.qcow2',
  extraDisks: qemuExtraDisks,
  checkRecord(record) {
    const r = recordSchema.safeParse(record);
    if (!r.success) throw new Error(r.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '));
    return r.data;
  },
  async flatten(frozen, out) {
    const flat = await run(['qemu-img', 'convert', '-O', 'qcow2', frozen, out], { timeoutMs: 30 * 60_000 });
    if (flat.code !== 0) throw new Error(`flattening the disk failed: ${firstLine(flat.stderr)}`);
  },
  async join(layers, out) {
    // Each layer came from elsewhere (a backup target): a qcow2 with no external data file, its
    // backing file set here to the layer below (none for the bottom), never to what its header said.
    for (const [i, layer] of layers.entries()) {
      const info = await run(['qemu-img', 'info', '--output=json', '-f', 'qcow2', layer], { timeoutMs: 30_000 });
      const d = info.code === 0 ? (JSON.parse(info.stdout) as { format?: string; 'format-specific'?: { data?: { 'data-file'?: string } } }) : null;
      if (!d || d.format !== 'qcow2') throw new Error(`disk layer ${i + 1} is not a qcow2 image`);
      if (d['format-specific']?.data?.['data-file']) throw new Error(`disk layer ${i + 1} refers to an external data file`);
      const below = i ? ['-b', layers[i - 1], '-F', 'qcow2'] : ['-b', ''];
      const r = await run(['qemu-img', 'rebase', '-u', '-f', 'qcow2', ...below, layer], { timeoutMs: 30_000 });
      if (r.code !== 0) throw new Error(`linking disk layer ${i + 1} failed: ${firstLine(r.stderr)}`);
    }
    await qemuArchiver.flatten(layers[layers.length - 1], out);
  },
  async check(dir, live) {
    if (live) {
      try {
        checkStateFile(path.join(dir, 'state'));
      } catch (err) {
        throw new Error((err as Error).message.replace(dir + '/', ''), { cause: err });
      }
    }
    for (const name of ['disk.qcow2', ...qemuExtraDisks.members.filter((m) => fs.existsSync(path.join(dir, m)))]) await checkStandalone(dir, name);
  },
};
