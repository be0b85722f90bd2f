import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nspawnArgv } from '@/server/drivers/nspawn/argv';
import { NspawnDriver } from '@/server/drivers/nspawn/driver';
import { ociPaths, storageName } from '@/server/drivers/oci/store';
import { OciImageService } from '@/server/core/oci-images';

/**
 * What OciImageService serves for an OCI system image (its layers from a c/storage graph, over the
 * shim) is what the nspawn driver boots: the two meet here, as a unit test of either may import only its own layer.
 */
describe('OCI images on nspawn', () => {
  it('boots an OCI system image (create `boot`): its layers on the overlay, systemd as init, no bundle; an image without systemd is refused', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-nspawn-boot-'));
    try {
      // An OCI image as OciImageService serves it: its layers from a c/storage graph, over the shim.
      const paths = ociPaths(tmp);
      const layer = (id: string, parent?: string) => ({ id, ...(parent ? { parent } : {}) });
      const put = (f: string, v: unknown) => (fs.mkdirSync(path.dirname(f), { recursive: true }), fs.writeFileSync(f, JSON.stringify(v)));
      put(path.join(paths.storage, 'overlay-layers', 'layers.json'), [layer('sys'), layer('top', 'sys'), layer('app')]);
      put(path.join(paths.storage, 'overlay-images', 'images.json'), [
        { id: 'c1', names: [storageName('sha256:booted')], layer: 'top' },
        { id: 'c2', names: [storageName('sha256:noinit')], layer: 'app' },
      ]);
      const diff = (id: string) => path.join(paths.storage, 'overlay', id, 'diff');
      const mk = (f: string) => (fs.mkdirSync(path.dirname(f), { recursive: true }), fs.writeFileSync(f, ''));
      mk(path.join(paths.shim, 'usr/.keep'));
      mk(path.join(diff('sys'), 'usr/lib/systemd/systemd'));
      mk(path.join(diff('top'), 'etc/motd'));
      mk(path.join(diff('app'), 'bin/app'));
      const oci = new OciImageService(null as never, null as never, null as never, null as never, paths, null as never);
      const image = (digest: string) => oci.files({ name: 'oci-0123456789ab', recipe: { digest, config: { Cmd: ['/bin/app'] } } });
      const m = { id: 'mch_abc', name: 'ct-1', dir: path.join(tmp, 'm'), layers: path.join(tmp, 'layers'), cpus: 2, memoryMib: 256, diskGib: 2, ports: [] };
      const boot = { ...m, runtime: { boot: true } };
      const made = await new NspawnDriver().create(boot, image('sha256:booted'));
      // The lowest layer is the root nspawn checks for an OS (the shim is empty), the others above it.
      expect(made.runtime).toMatchObject({ rootfs: diff('sys'), command: null, ssh: true, imageLayers: [diff('top')] });
      expect(made.runtime).not.toHaveProperty('oci');
      const a = nspawnArgv({ ...m, runtime: made.runtime }, diff('sys'));
      expect(a).toContain('--boot');
      expect(a.some((x) => x.startsWith('--oci-bundle'))).toBe(false);
      expect(a).toContain(`--overlay=${diff('sys')}:${diff('top')}:${path.join(tmp, 'm/upper')}:/`);
      // The machine's hostname and console login, as for any OS container.
      expect(fs.readFileSync(path.join(tmp, 'm/upper/etc/hostname'), 'utf8')).toBe('ct-1\n');
      await expect(new NspawnDriver().create(boot, image('sha256:noinit'))).rejects.toThrow('holds no systemd');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
