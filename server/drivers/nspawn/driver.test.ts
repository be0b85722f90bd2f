import { describe, expect, it } from 'vitest';
import { nspawnArgv } from './argv';
import { READY } from './driver';
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
});

describe('an OS container is ready', () => {
  it('at the login line, or at root shell prompt when the autologin line was flushed by login hanging the tty up', () => {
    expect(READY.test('\nct-1 login: root (automatic login)\n')).toBe(true);
    expect(READY.test('[  OK  ] Reached target multi-user.target\nLinux d13-a 6.1\n\x1b[?2004hroot@d13-a:~# ')).toBe(true);
    expect(READY.test('[  OK  ] Reached target multi-user.target - Multi-User System.\n')).toBe(false);
    expect(READY.test('Starting ssh.service - OpenBSD Secure Shell server...\n')).toBe(false);
  });
});
