import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { holdByPausing, packDir, packOwnExtras, placeOwnExtras, unpackDir, type Pausable } from '../shared/container-move';
import type { MoveAccess, MoveFile } from '../types';
import { containerDirs } from './argv';
import { leaseSubnet, natPlan, releaseSubnet } from './network';
import { cgroupFor, networkOf, nspawnRuntime } from './runtime';

const inside = (file: string, dir: string) => path.resolve(file).startsWith(path.resolve(dir) + path.sep);

/**
 * nspawn containers between nodes. A container is directories on an overlay: the image's root (the
 * other node has or copies the image; an OCI image's layers are in each node's store, under that
 * node's own names, so they are looked up there again), the frozen layers of the snapshots it descends from, its
 * own upper dir and volumes. Each directory goes as a tar packed here (numeric owners, xattrs:
 * overlay whiteouts and opaque dirs survive), is checked on the other node (no member outside its
 * root) and unpacked under new names there. A running container moves by restart: frozen (cgroup
 * freezer) while its files are packed and copied, started on the other node from them, and thawed
 * here if the move fails; its processes start again there (nothing restores a container's memory).
 * Its NAT subnet is leased anew on the other node; its console log goes along.
 */
export function nspawnMove(driver: Pausable): MoveAccess {
  return {
    hold: holdByPausing(driver),

    async plan(m, _live, tmp) {
      const rt = nspawnRuntime(m.runtime);
      const pack = (name: string, dir: string) => packDir(tmp, name, dir);
      // The image's root stays (the other node has the image); a root that is a layer here (an imported snapshot's) goes.
      const root = rt.rootfs && inside(rt.rootfs, m.layers) ? rt.rootfs : null;
      const frozen: MoveFile[] = [];
      if (root) frozen.push(await pack('root', root));
      for (const [i, dir] of (rt.lowers ?? []).entries()) frozen.push(await pack(`lower-${i}`, dir));
      const upper = await pack('upper', containerDirs(m.dir).upper);
      const extras = await packOwnExtras(m, tmp);
      return { frozen, own: [upper, ...extras.files], meta: { root: root !== null, lowers: rt.lowers?.length ?? 0, volumes: extras.volumes } };
    },

    async place(m, got, meta, _live, image) {
      const rt = nspawnRuntime(m.runtime);
      fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
      fs.mkdirSync(m.layers, { recursive: true, mode: 0o700 });
      const made: string[] = [];
      let netIndex: number | null = null;
      const unpack = (name: string, to: string) => unpackDir(got, name, to);
      const layer = async (name: string) => {
        const dir = path.join(m.layers, `${m.id}-${name}-${randomBytes(4).toString('hex')}`);
        made.push(dir);
        await unpack(name, dir);
        return dir;
      };
      try {
        let rootfs: string;
        let imageLayers = rt.imageLayers;
        if (meta.root === true) rootfs = await layer('root');
        else if (image?.oci) {
          // This node's store's dirs of the same layers, placed as create placed them (booted: the lowest is the root).
          const here = image.oci.layers;
          const shim = image.rootfs ?? '';
          if (!here.length || !here.every((d) => fs.existsSync(d)) || !fs.existsSync(shim))
            throw new Error(`the layers of image ${image.image} are not in this node's store`);
          [rootfs, imageLayers] = rt.boot ? [here[0], here.slice(1)] : [shim, here];
        } else if (image?.rootfs && fs.existsSync(image.rootfs)) rootfs = image.rootfs;
        else throw new Error(`image ${image?.image ?? '(none)'} has no root filesystem on this node`);
        const lowers: string[] = [];
        for (let i = 0; i < (Number(meta.lowers) || 0); i++) lowers.push(await layer(`lower-${i}`));
        const upper = containerDirs(m.dir).upper;
        fs.rmSync(upper, { recursive: true, force: true });
        await unpack('upper', upper);
        const serialFrom = await placeOwnExtras(m, got, meta.volumes === true);
        // Its own /30 on this node's NAT network (the other node's lease goes with its copy).
        if (networkOf(rt) === 'nat') netIndex = leaseSubnet(m);
        const address = netIndex === null ? null : natPlan(m.id, netIndex).guestAddr;
        // This node's cgroup name, not the other node's (a cleanup here must never touch that one, on a host both share).
        return { runtime: { ...rt, rootfs, imageLayers, lowers, netIndex, address, pid: null, nspawnPid: null, serialFrom, cgroup: cgroupFor(m) }, made };
      } catch (err) {
        releaseSubnet(m, netIndex);
        for (const f of made) fs.rmSync(f, { recursive: true, force: true });
        throw err;
      }
    },
  };
}
