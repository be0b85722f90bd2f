import fs from 'node:fs';
import path from 'node:path';
import { containerDirs, hostnameOf, prepareOciUpper, prepareUpper } from './argv';
import { leaseSubnet, natPlan } from './network';
import { networkOf, type nspawnRuntime } from './runtime';

/** An OCI image's part of a record: its layers, and its process unless the image boots (its systemd is the init then). */
export const ociOf = (rec: ReturnType<typeof nspawnRuntime>) =>
  rec.oci ? { oci: rec.oci, imageLayers: rec.imageLayers ?? [] } : rec.imageLayers?.length ? { imageLayers: rec.imageLayers } : {};

/** A new record's layers and network, leased for machine `t` (a restore keeps its lease). */
export function layered(t: { id: string; layers: string; dir: string; name: string }, rec: ReturnType<typeof nspawnRuntime>, lowers: string[], rootfs: string) {
  const network = networkOf(rec);
  const netIndex = network === 'nat' ? leaseSubnet(t) : null;
  const oci = ociOf(rec);
  if (rec.oci) prepareOciUpper(containerDirs(t.dir).upper, rec.imageLayers ?? [], rec.oci.cwd);
  else prepareUpper(containerDirs(t.dir).upper, hostnameOf(t), network);
  // `ssh`: the machine offers login shells (for a container: bash through nsenter, see openShell); an OCI image may have no shell.
  const command = rec.command && rec.command.length ? rec.command : null;
  const address = netIndex === null ? null : natPlan(t.id, netIndex).guestAddr;
  return { rootfs, lowers, network, netIndex, address, ssh: !rec.oci, command, ...oci };
}

/** Files moved into a writable layer (before the overlay is mounted); returns their paths in the guest. */
export function addToUpper(upper: string, files: { from: string; to: string }[]): string[] {
  return files.map((f) => {
    const rel = path.posix.normalize(`/${f.to}`);
    const target = path.join(upper, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o700 });
    fs.renameSync(f.from, target);
    return rel;
  });
}
