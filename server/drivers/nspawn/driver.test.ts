import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { nspawnArgv } from './argv';
import { NspawnDriver } from './driver';
import { natPlan } from './network';
import { unitFile } from './unit';

const spec = {
  id: 'mch_abc',
  name: 'ct-1',
  dir: '/data/machines/mch_abc',
  layers: '/data/layers',
  cpus: 2,
  memoryMib: 256,
  diskGib: 2,
  ports: [],
  runtime: { rootfs: '/data/images/debian-12/rootfs', lowers: ['/data/layers/snap one.d'] },
};

describe('nspawn', () => {
  it('boots systemd on an overlay: image root lowest, snapshot layers above, the machine upper dir on top; private network by default', () => {
    const a = nspawnArgv(spec, spec.runtime.rootfs);
    expect(a.slice(0, 6)).toEqual(['systemd-nspawn', '--quiet', '--boot', '--register=no', '--keep-unit', '--private-network']);
    expect(a).toContain('--overlay=/data/images/debian-12/rootfs:/data/layers/snap one.d:/data/machines/mch_abc/upper:/');
    expect(nspawnArgv({ ...spec, runtime: { ...spec.runtime, network: 'host' } }, spec.runtime.rootfs)).not.toContain('--private-network');
  });
  it('exports a unit file whose ExecStart quotes what systemd would split', () => {
    const unit = unitFile(spec);
    expect(unit).toMatch(
      new RegExp(
        '^ExecStart=systemd-nspawn --quiet --boot .* ' + '"--overlay=/data/images/debian-12/rootfs:/data/layers/snap one\\.d:/data/machines/mch_abc/upper:/"$',
        'm',
      ),
    );
    expect(unit).toMatch(/^MemoryMax=256M\nCPUQuota=200%$/m);
    expect(unitFile({ ...spec, runtime: { ...spec.runtime, lowers: ['/l/a$b"c'] } })).toContain('"--overlay=/data/images/debian-12/rootfs:/l/a$$b\\"c:');
    expect(unit).toContain('Environment=SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1');
    expect(unit).toContain('WantedBy=multi-user.target');
  });

  it('runs an application container command under the stub init, and waits for the NAT network before it', () => {
    const app = nspawnArgv({ ...spec, runtime: { ...spec.runtime, command: ['echo', 'a b'] } }, spec.runtime.rootfs, { pipe: true });
    expect(app.slice(0, 3)).toEqual(['systemd-nspawn', '--quiet', '--as-pid2']);
    expect(app).toContain('--console=pipe');
    expect(app.slice(-3)).toEqual(['--', 'echo', 'a b']);
    const nat = nspawnArgv({ ...spec, runtime: { ...spec.runtime, network: 'nat', netIndex: 7, command: ['true'] } }, spec.runtime.rootfs);
    const plan = natPlan(spec.id, 7);
    expect(plan).toMatchObject({ hostAddr: '10.213.0.29', guestAddr: '10.213.0.30', cidr: '10.213.0.28/30' });
    expect(plan.hostIf.length).toBeLessThanOrEqual(15);
    expect(nat).toContain(`--network-veth-extra=${plan.hostIf}:host0`);
    expect(nat).not.toContain('--private-network');
    expect(nat.slice(-6, -3)).toEqual(['--', '/bin/sh', '-c']);
    expect(nat.slice(-2)).toEqual(['hangar-wait-net', 'true']);
  });
  it('exports a NAT container with the host side of its network as ExecStartPost, escaped for systemd', () => {
    const unit = unitFile({ ...spec, ports: [{ host: 8080, guest: 80, protocol: 'tcp' }], runtime: { ...spec.runtime, network: 'nat', netIndex: 7 } });
    expect(unit).toMatch(/^ExecStartPost=\/bin\/sh -c ".*ip addr replace 10\.213\.0\.29\/30 dev hg-.*\$\$MAINPID.*MASQUERADE.*"$/m);
    expect(unit).toMatch(/^ExecStopPost=-iptables -w 5 -t nat -D POSTROUTING -s 10\.213\.0\.28\/30 /m);
    expect(unit).toContain('127.0.0.1:8080 -> 80');
  });

  it('boots an OCI system image (create `boot`): its layers on the overlay, systemd as init, no bundle; an image without systemd is refused', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-nspawn-boot-'));
    try {
      const mk = (f: string) => (fs.mkdirSync(path.dirname(path.join(tmp, f)), { recursive: true }), fs.writeFileSync(path.join(tmp, f), ''));
      mk('shim/.keep');
      mk('sys/usr/lib/systemd/systemd');
      mk('top/etc/motd');
      mk('app/bin/app');
      const m = { ...spec, dir: path.join(tmp, 'm'), runtime: { boot: true } };
      const image = (layers: string[]) => ({
        image: 'oci-0123456789ab',
        kind: 'oci',
        kernel: '',
        initrd: '',
        disk: '',
        append: '',
        ssh: false,
        diskBytes: 0,
        rootfs: path.join(tmp, 'shim'),
        oci: { layers, config: { Cmd: ['/bin/app'] } },
      });
      const made = await new NspawnDriver().create(m, image([path.join(tmp, 'sys'), path.join(tmp, 'top')]));
      // The lowest layer is the root nspawn checks for an OS (the shim is empty), the others above it.
      expect(made.runtime).toMatchObject({ rootfs: path.join(tmp, 'sys'), command: null, ssh: true, imageLayers: [path.join(tmp, 'top')] });
      expect(made.runtime).not.toHaveProperty('oci');
      const a = nspawnArgv({ ...m, runtime: made.runtime }, path.join(tmp, 'sys'));
      expect(a).toContain('--boot');
      expect(a.some((x) => x.startsWith('--oci-bundle'))).toBe(false);
      expect(a).toContain(`--overlay=${path.join(tmp, 'sys')}:${path.join(tmp, 'top')}:${path.join(tmp, 'm/upper')}:/`);
      // The machine's hostname and console login, as for any OS container.
      expect(fs.readFileSync(path.join(tmp, 'm/upper/etc/hostname'), 'utf8')).toBe('ct-1\n');
      await expect(new NspawnDriver().create(m, image([path.join(tmp, 'app')]))).rejects.toThrow('holds no systemd');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
