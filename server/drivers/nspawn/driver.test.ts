import { describe, expect, it } from 'vitest';
import { nspawnArgv } from './driver';
import { unitFile } from './unit';

const spec = { id: 'mch_abc', name: 'ct-1', dir: '/data/machines/mch_abc', layers: '/data/layers', cpus: 2, memoryMib: 256, diskGib: 2, ports: [], runtime: { rootfs: '/data/images/debian-12/rootfs', lowers: ['/data/layers/snap one.d'] } };

describe('nspawn', () => {
  it('boots systemd on an overlay: image root lowest, snapshot layers above, the machine upper dir on top; private network by default', () => {
    const a = nspawnArgv(spec, spec.runtime.rootfs);
    expect(a.slice(0, 6)).toEqual(['systemd-nspawn', '--quiet', '--boot', '--register=no', '--keep-unit', '--private-network']);
    expect(a).toContain('--overlay=/data/images/debian-12/rootfs:/data/layers/snap one.d:/data/machines/mch_abc/upper:/');
    expect(nspawnArgv({ ...spec, runtime: { ...spec.runtime, network: 'host' } }, spec.runtime.rootfs)).not.toContain('--private-network');
  });
  it('exports a unit file whose ExecStart quotes what systemd would split', () => {
    const unit = unitFile(spec);
    expect(unit).toMatch(/^ExecStart=systemd-nspawn --quiet --boot .* "--overlay=\/data\/images\/debian-12\/rootfs:\/data\/layers\/snap one.d:\/data\/machines\/mch_abc\/upper:\/"$/m);
    expect(unit).toMatch(/^MemoryMax=256M\nCPUQuota=200%$/m);
    expect(unitFile({ ...spec, runtime: { ...spec.runtime, lowers: ['/l/a$b"c'] } })).toContain('"--overlay=/data/images/debian-12/rootfs:/l/a$$b\\"c:');
    expect(unit).toContain('Environment=SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1');
    expect(unit).toContain('WantedBy=multi-user.target');
  });
});
