import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { holderFiles } from '../shared/holder-files';
import { checkRootfsTar, KEEP_ROOTFS, tar } from '../shared/rootfs-tar';
import type { MachineSpec, MoveAccess, MoveFile } from '../types';
import { containerDirs } from './argv';
import { leaseSubnet, natPlan, releaseSubnet } from './network';
import { cgroupFor, networkOf, nspawnRuntime } from './runtime';

/** Why a container cannot move, or null: an OCI image's layers are pulled by each node, not copied, so they stay. */
export function nspawnMoveRefusal(runtime: Record<string, unknown>): string | null {
  return nspawnRuntime(runtime).imageLayers?.length
    ? 'a container of an OCI image does not move yet (each node pulls OCI images itself): checkpoint it and fork the snapshot there'
    : null;
}

const inside = (file: string, dir: string) => path.resolve(file).startsWith(path.resolve(dir) + path.sep);

/**
 * nspawn containers between nodes. A container is directories on an overlay: the image's root (the
 * other node has or copies the image), the frozen layers of the snapshots it descends from, its
 * own upper dir and volumes. Each directory goes as a tar packed here (numeric owners, xattrs:
 * overlay whiteouts and opaque dirs survive), is checked on the other node (no member outside its
 * root) and unpacked under new names there. A running container moves by restart: frozen (cgroup
 * freezer) while its files are packed and copied, started on the other node from them, and thawed
 * here if the move fails; its processes start again there (nothing restores a container's memory).
 * Its NAT subnet is leased anew on the other node; its console log goes along.
 */
export function nspawnMove(driver: { pause(m: MachineSpec): Promise<void>; resume(m: MachineSpec): Promise<void> }): MoveAccess {
  return {
    async hold(m) {
      await driver.pause(m);
      return () => driver.resume(m);
    },

    async plan(m, _live, tmp) {
      const why = nspawnMoveRefusal(m.runtime);
      if (why) throw new Error(why);
      const rt = nspawnRuntime(m.runtime);
      const pack = async (name: string, dir: string): Promise<MoveFile> => {
        const file = path.join(tmp, `${name}.tar`);
        await tar(['-C', dir, ...KEEP_ROOTFS, '-cf', file, '.'], `packing ${name}`);
        return { name, path: file };
      };
      // The image's root stays (the other node has the image); a root that is a layer here (an imported snapshot's) goes.
      const root = rt.rootfs && inside(rt.rootfs, m.layers) ? rt.rootfs : null;
      const frozen: MoveFile[] = [];
      if (root) frozen.push(await pack('root', root));
      for (const [i, dir] of (rt.lowers ?? []).entries()) frozen.push(await pack(`lower-${i}`, dir));
      const own: MoveFile[] = [await pack('upper', containerDirs(m.dir).upper)];
      const volumes = path.join(m.dir, 'volumes');
      if (fs.existsSync(volumes)) own.push(await pack('volumes', volumes));
      // The console log as it is now (the holder may still write a line while the container is frozen).
      const log = holderFiles(m.dir).log;
      if (fs.existsSync(log)) {
        fs.copyFileSync(log, path.join(tmp, 'console.log'));
        own.push({ name: 'console.log', path: path.join(tmp, 'console.log') });
      }
      return { frozen, own, meta: { root: root !== null, lowers: rt.lowers?.length ?? 0, volumes: fs.existsSync(volumes) } };
    },

    async place(m, got, meta, _live, image) {
      const rt = nspawnRuntime(m.runtime);
      fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
      const made: string[] = [];
      let netIndex: number | null = null;
      const unpack = async (name: string, to: string) => {
        const file = got.get(name);
        if (!file) throw new Error(`${name} did not arrive`);
        await checkRootfsTar(file, name);
        fs.mkdirSync(to, { mode: 0o755 });
        await tar(['-C', to, ...KEEP_ROOTFS, '-xpf', file], `unpacking ${name}`);
        fs.rmSync(file, { force: true });
      };
      const layer = async (name: string) => {
        const dir = path.join(m.layers, `${m.id}-${name}-${randomBytes(4).toString('hex')}`);
        made.push(dir);
        await unpack(name, dir);
        return dir;
      };
      try {
        let rootfs: string;
        if (meta.root === true) rootfs = await layer('root');
        else if (image?.rootfs && fs.existsSync(image.rootfs)) rootfs = image.rootfs;
        else throw new Error(`image ${image?.image ?? '(none)'} has no root filesystem on this node`);
        const lowers: string[] = [];
        for (let i = 0; i < (Number(meta.lowers) || 0); i++) lowers.push(await layer(`lower-${i}`));
        const upper = containerDirs(m.dir).upper;
        fs.rmSync(upper, { recursive: true, force: true });
        await unpack('upper', upper);
        if (meta.volumes === true) await unpack('volumes', path.join(m.dir, 'volumes'));
        const log = got.get('console.log');
        if (log) fs.renameSync(log, holderFiles(m.dir).log);
        const serialFrom = log ? fs.statSync(holderFiles(m.dir).log).size : 0;
        // Its own /30 on this node's NAT network (the other node's lease goes with its copy).
        if (networkOf(rt) === 'nat') netIndex = leaseSubnet(m);
        const address = netIndex === null ? null : natPlan(m.id, netIndex).guestAddr;
        // This node's cgroup name, not the other node's (a cleanup here must never touch that one, on a host both share).
        return { runtime: { ...rt, rootfs, lowers, netIndex, address, pid: null, nspawnPid: null, serialFrom, cgroup: cgroupFor(m) }, made };
      } catch (err) {
        releaseSubnet(m, netIndex);
        for (const f of made) fs.rmSync(f, { recursive: true, force: true });
        throw err;
      }
    },
  };
}
