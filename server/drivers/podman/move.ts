import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { firstLine, run } from '../exec';
import { holdByPausing, packOwnExtras, placeOwnExtras, type Pausable } from '../shared/container-move';
import type { MachineSpec, MoveAccess } from '../types';
import { pm } from './cli';
import { containerFor, containerName, podmanRuntime } from './runtime';

/** Images a move carries are named so: one per move (`:TAG`), loaded on the other node and removed with the machine there. */
export const MOVE_IMAGE = 'localhost/hangar-move-';
const MOVE_REF = /^localhost\/hangar-move-[a-z0-9_]{1,40}:[a-z0-9]{1,40}$/;
const LONG_MS = 30 * 60_000;

/** The image names a docker-archive gives (its manifest.json's RepoTags), read without unpacking it. */
async function archiveNames(file: string): Promise<string[]> {
  const r = await run(['tar', '-xOf', file, 'manifest.json'], { timeoutMs: 120_000, maxOutputBytes: 2 ** 20 });
  if (r.code !== 0) throw new Error(`the image archive has no manifest.json (${firstLine(r.stderr) || `tar exit ${r.code}`})`);
  try {
    const manifest = JSON.parse(r.stdout) as { RepoTags?: unknown }[];
    return manifest.flatMap((e) => (Array.isArray(e.RepoTags) ? e.RepoTags.map(String) : []));
  } catch {
    throw new Error("the image archive's manifest.json is not JSON");
  }
}

const moveRef = (m: Pick<MachineSpec, 'id'>) => `${MOVE_IMAGE}${m.id.slice(4).toLowerCase()}:${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;

/**
 * podman containers between nodes. A container is an image (an imported root, a snapshot's commit, an
 * OCI image podman pulled) run anew at each start, its volumes and its console log. The image goes as
 * podman's own archive (`podman save`: layers and config, each layer's digest checked by `podman load`
 * there), tagged for that move only; a running container moves by restart: paused while it is
 * committed (its files as they are then) and packed, started on the other node from the commit, and
 * unpaused here if the move fails. Its container there is named by that node's tag, so two nodes on
 * one host, which share podman's storage, never touch each other's.
 */
export function podmanMove(driver: Pausable): MoveAccess {
  return {
    hold: holdByPausing(driver),

    async plan(m, live, tmp) {
      const image = podmanRuntime(m.runtime).image;
      if (!image) throw new Error('The machine has no podman image recorded: create it again.');
      const ref = moveRef(m);
      // Running (paused by hold): its files as they are now. Stopped: a start runs its image anew anyway.
      if (live) await pm(['commit', '--pause=false', containerName(m), ref], LONG_MS);
      else await pm(['tag', image, ref]);
      try {
        const file = path.join(tmp, 'image.tar');
        await pm(['save', '--format', 'docker-archive', '-o', file, ref], LONG_MS);
        const extras = await packOwnExtras(m, tmp);
        return { frozen: [], own: [{ name: 'image.tar', path: file }, ...extras.files], meta: { image: ref, volumes: extras.volumes } };
      } finally {
        // The archive holds it: here the tag goes (and a commit's image with it).
        await pm(['rmi', ref]).catch(() => undefined);
      }
    },

    async place(m, got, meta) {
      const ref = String(meta.image);
      if (!MOVE_REF.test(ref)) throw new Error(`the move names no podman image of a move ("${ref.slice(0, 80)}")`);
      const file = got.get('image.tar');
      if (!file) throw new Error('image.tar did not arrive');
      // The archive names its image: exactly the one the move said, or nothing is loaded (a load of other names would stay).
      const names = await archiveNames(file);
      if (names.length !== 1 || names[0] !== ref) throw new Error(`the image archive names ${JSON.stringify(names).slice(0, 200)}, not ${ref}`);
      fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
      await pm(['load', '-i', file], LONG_MS);
      fs.rmSync(file, { force: true });
      try {
        await pm(['image', 'exists', ref]).catch(() => {
          throw new Error(`podman loaded the archive, but it holds no image ${ref}`);
        });
        const serialFrom = await placeOwnExtras(m, got, meta.volumes === true);
        const runtime = { ...podmanRuntime(m.runtime), image: ref, moveImage: ref, pid: null, serialFrom, container: containerFor(m) };
        return { runtime, made: [] };
      } catch (err) {
        await pm(['rmi', ref]).catch(() => undefined);
        throw err;
      }
    },
  };
}
