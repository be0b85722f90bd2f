import { describe, expect, it } from 'vitest';
import { extraDisksArgv, extrasOf } from './disks-argv';

const disk = (name: string, slot: number, over: Record<string, unknown> = {}) => ({
  name,
  file: `/data/layers/m-d-${name}.qcow2`,
  sizeGib: 2,
  bus: 'virtio-blk',
  attached: true,
  slot,
  ...over,
});

describe('extra disks on the qemu command line', () => {
  it('gives none for a record without disks', () => {
    expect(extraDisksArgv({ disk: '/x.qcow2' })).toEqual([]);
  });

  it('puts each attached disk at its fixed PCI slot, named by its serial; detached ones are left out', () => {
    const argv = extraDisksArgv({ disks: [disk('data', 0), disk('old', 1, { attached: false }), disk('logs', 4)] });
    expect(argv.filter((a) => a === '-device')).toHaveLength(2);
    expect(JSON.parse(argv[1])).toEqual({ driver: 'qcow2', 'node-name': 'xd0', file: { driver: 'file', filename: '/data/layers/m-d-data.qcow2' } });
    expect(JSON.parse(argv[3])).toMatchObject({ driver: 'virtio-blk-pci', drive: 'xd0', id: 'disk-data', addr: '0x10', serial: 'data' });
    expect(JSON.parse(argv[7])).toMatchObject({ id: 'disk-logs', addr: '0x14' });
  });

  it('adds the one SCSI controller for SCSI disks (and keeps it once a running machine got it)', () => {
    const argv = extraDisksArgv({ disks: [disk('s', 2, { bus: 'virtio-scsi' })] });
    expect(JSON.parse(argv[1])).toMatchObject({ driver: 'virtio-scsi-pci', id: 'scsi0', addr: '0x0f' });
    expect(JSON.parse(argv[5])).toMatchObject({ driver: 'scsi-hd', bus: 'scsi0.0', 'scsi-id': 2, lun: 0 });
    expect(extrasOf({ scsi: true, disks: [] }).scsi).toBe(true);
  });

  it('says a damaged record is damaged', () => {
    expect(() => extrasOf({ disks: [{ name: 'x' }] })).toThrow(/damaged/);
  });
});
