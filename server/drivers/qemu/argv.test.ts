import { describe, expect, it } from 'vitest';
import { qemuArgv } from './argv';

const spec = {
  name: 'web',
  dir: '/data/machines/mch_x',
  accel: 'tcg' as const,
  cpus: 2,
  memoryMib: 512,
  kernel: '/k',
  initrd: '/i',
  mac: '52:54:00:12:34:56',
  ports: [{ host: 8080, guest: 80, protocol: 'tcp' as const }],
  append: 'console=ttyS0',
  sshPort: null,
  disk: '/data/layers/l1.qcow2',
};

describe('qemuArgv', () => {
  it('backs guest RAM with a shared file and logs the serial console from the start', () => {
    const a = qemuArgv(spec);
    expect(a).toContain('memory-backend-file,id=ram0,size=512M,mem-path=/data/machines/mch_x/ram,share=on');
    expect(a).toContain('pc,memory-backend=ram0');
    expect(a.find((x) => x.startsWith('socket,id=ser0'))).toMatch(/logfile=\/data\/machines\/mch_x\/serial.log/);
    expect(a).toContain('-daemonize');
  });
  it('maps a snapshot RAM file privately for a restore, waiting for the device state', () => {
    const a = qemuArgv({ ...spec, ram: { path: '/data/snapshots/snp_a/ram', shared: false }, incoming: true });
    expect(a).toContain('memory-backend-file,id=ram0,size=512M,mem-path=/data/snapshots/snp_a/ram,share=off');
    expect(a.slice(-2)).toEqual(['-incoming', 'defer']);
  });
  it('draws a VGA screen served by VNC on a unix socket in the machine dir, never TCP, shared by every viewer', () => {
    const a = qemuArgv(spec);
    expect(a[a.indexOf('-vnc') + 1]).toBe('unix:/data/machines/mch_x/vnc.sock,share=force-shared');
    expect(a).toEqual(expect.arrayContaining(['-device', 'VGA', '-display', 'none']));
    // A snapshot saved without a screen loads into a QEMU without one.
    const old = qemuArgv({ ...spec, display: false, incoming: true });
    expect(old).not.toContain('-vnc');
    expect(old).not.toContain('VGA');
  });
  it('gives -accel once, TCG with a bounded translation cache', () => {
    const a = qemuArgv(spec);
    expect(a.filter((x) => x === '-accel')).toHaveLength(1);
    expect(a[a.indexOf('-accel') + 1]).toBe('tcg,tb-size=64');
    expect(qemuArgv({ ...spec, accel: 'kvm' })).toEqual(expect.arrayContaining(['kvm', '-cpu', 'host']));
  });
  it('forwards ports on loopback only', () => {
    expect(qemuArgv(spec).find((x) => x.startsWith('user,'))).toBe('user,model=virtio-net-pci,mac=52:54:00:12:34:56,hostfwd=tcp:127.0.0.1:8080-:80');
    expect(qemuArgv({ ...spec, sshPort: 40022 }).find((x) => x.startsWith('user,'))).toMatch(/hostfwd=tcp:127.0.0.1:40022-:22$/);
  });
});
