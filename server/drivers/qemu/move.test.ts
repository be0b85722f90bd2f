import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { MachineDriver } from '../types';
import { qemuMove } from './move';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-unit-qmove-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('QEMU moves', () => {
  it("send a running guest's console log as it was when listed: the guest writing on meanwhile changes nothing sent", async () => {
    const dir = path.join(root, 'machines', 'mch_qmoveunit00000000');
    fs.mkdirSync(dir, { recursive: true });
    const disk = path.join(root, 'disk.raw');
    fs.writeFileSync(disk, Buffer.alloc(4096));
    fs.writeFileSync(path.join(dir, 'serial.log'), 'booted\n');
    fs.writeFileSync(path.join(dir, 'id_ed25519'), 'key');
    const tmp = fs.mkdtempSync(path.join(root, 'out-'));
    const spec = { id: 'mch_qmoveunit00000000', name: 'vm', dir, layers: root, cpus: 1, memoryMib: 128, diskGib: 1, ports: [], runtime: { disk } };
    const plan = await qemuMove({} as MachineDriver).plan(spec, true, tmp);
    const log = plan.own.find((f) => f.name === 'dir-serial.log')!;
    expect(path.dirname(log.path)).toBe(tmp);
    fs.appendFileSync(path.join(dir, 'serial.log'), 'more output while the move runs\n');
    expect(fs.readFileSync(log.path, 'utf8')).toBe('booted\n');
    // The key does not change: sent from where it is. A live move sends no writable layer (the mirror does).
    expect(plan.own.find((f) => f.name === 'dir-id_ed25519')!.path).toBe(path.join(dir, 'id_ed25519'));
    expect(plan.own.some((f) => f.name === 'top')).toBe(false);
  });
});
