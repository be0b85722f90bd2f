import fs from 'node:fs';
import path from 'node:path';
import type { VolumeArchiver } from '../types';
import { checkRootfsTar, KEEP_ROOTFS, tar } from './rootfs-tar';
import { recordVolumes, volumeDir } from './volumes';

const MEMBER = /^volume-([a-z0-9][a-z0-9-]{0,31})\.tar$/;
const memberOf = (name: string) => `volume-${name}.tar`;
/** The same bytes for the same tree: names sorted, no access or change times. */
const STABLE = ['--sort=name', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime'];

/**
 * Container volumes in snapshot archives and backups: each volume's copy in the snapshot's
 * directory (made by its checkpoint) as a tar member of its own. An import checks each member's
 * names (relative, no `..`) and unpacks it with GNU tar, which never writes through a symlink the
 * archive made (`../` or absolute ones pointing out stay links inside the volume): nothing lands
 * outside the volume's directory.
 */
export const volumeArchiver: VolumeArchiver = {
  nameOf(member) {
    return MEMBER.exec(member)?.[1] ?? null;
  },
  of(snapDir, record) {
    return recordVolumes(record)
      .map((v) => ({ member: memberOf(v.name), dir: volumeDir(snapDir, v.name) }))
      .filter((v) => fs.existsSync(v.dir));
  },
  async pack(dir, out) {
    await tar(['-C', dir, ...KEEP_ROOTFS, ...STABLE, '-cf', out, '.'], `packing volume ${path.basename(dir)}`);
  },
  async unpack(work, record) {
    const named = new Set(recordVolumes(record).map((v) => v.name));
    const done: string[] = [];
    for (const e of fs.readdirSync(work)) {
      const name = this.nameOf(e);
      if (!name) continue;
      if (!named.has(name)) throw new Error(`${e}: the manifest names no volume "${name}"`);
      const file = path.join(work, e);
      await checkRootfsTar(file, e);
      const dir = volumeDir(work, name);
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      await tar(['-C', dir, ...KEEP_ROOTFS, '-xpf', file], `unpacking ${e}`);
      fs.rmSync(file);
      done.push(name);
    }
    return done;
  },
};
