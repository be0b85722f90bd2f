import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { QemuDriver } from './driver';

describe('QemuDriver.isReady', () => {
  it("looks for the ready marker in this boot's part of the serial log only", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qemu-ready-'));
    const log = path.join(dir, 'serial.log');
    fs.writeFileSync(log, 'boot 1\nhangar-ready m\npoweroff\n');
    const spec = { id: 'mch_x', name: 'm', dir, layers: dir, cpus: 1, memoryMib: 64, diskGib: 1, ports: [], runtime: { serialFrom: fs.statSync(log).size } };
    const d = new QemuDriver();
    expect(d.isReady(spec)).toBe(false);
    fs.appendFileSync(log, 'boot 2\n');
    expect(d.isReady(spec)).toBe(false);
    fs.appendFileSync(log, 'hangar-ready m\n');
    expect(d.isReady(spec)).toBe(true);
    expect(d.isReady({ ...spec, runtime: {} })).toBe(true);
    fs.rmSync(dir, { recursive: true });
  });
});
