import { describe, expect, it } from 'vitest';
import { qemuArgv } from './argv';
import { CDROM_ID, OVMF } from './cdrom-argv';

const base = {
  name: 'a',
  dir: '/d/m',
  accel: 'tcg' as const,
  cpus: 1,
  memoryMib: 256,
  kernel: '/k',
  initrd: '/i',
  mac: '52:54:00:00:00:01',
  ports: [],
  append: 'console=ttyS0',
  sshPort: null,
  disk: '/d/l/x.qcow2',
};

describe('CD-ROM argv', () => {
  it('leaves image machines as they were', () => {
    expect(qemuArgv({ ...base, cdrom: undefined })).toEqual(qemuArgv(base));
  });
  it('an installer: no direct kernel boot, reboots stay in the process, the ISO on ide-cd, CD booted once', () => {
    const argv = qemuArgv({ ...base, cdrom: { installer: true, iso: '/d/isos/a,b.iso', bootOnce: true, firmware: 'bios' } });
    for (const gone of ['-kernel', '-initrd', '-append', '-no-reboot']) expect(argv).not.toContain(gone);
    expect(argv).toContain('if=none,id=cd0,media=cdrom,readonly=on,format=raw,file=/d/isos/a,,b.iso');
    expect(argv).toContain(`ide-cd,drive=cd0,id=${CDROM_ID},bus=ide.1`);
    expect(argv[argv.indexOf('-boot') + 1]).toBe('order=cd,once=d,menu=off');
    expect(argv.join(' ')).not.toContain('pflash');
    expect(argv.indexOf('-boot')).toBeLessThan(argv.indexOf('-nodefaults'));
  });
  it('an empty drive, disk first; UEFI maps OVMF code read-only and the machine its own variables', () => {
    const argv = qemuArgv({ ...base, cdrom: { installer: true, iso: null, bootOnce: false, firmware: 'uefi' } });
    expect(argv).toContain('if=none,id=cd0,media=cdrom,readonly=on');
    expect(argv[argv.indexOf('-boot') + 1]).toBe('order=cd,menu=off');
    expect(argv).toContain(`if=pflash,format=raw,unit=0,readonly=on,file=${OVMF.code}`);
    expect(argv).toContain('if=pflash,format=raw,unit=1,file=/d/m/OVMF_VARS.fd');
  });
});
