import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stateHasDisplay } from './display';

describe('stateHasDisplay', () => {
  it('tells a snapshot saved with a VGA from one saved before machines had a screen, by its RAM block list', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-display-'));
    try {
      const withVga = path.join(dir, 'a');
      fs.writeFileSync(withVga, Buffer.concat([Buffer.from('QEVM\0\0\0\x03'), Buffer.from('\x08pc.ram\x150000:00:02.0/vga.vram'), Buffer.alloc(64)]));
      const without = path.join(dir, 'b');
      fs.writeFileSync(without, Buffer.concat([Buffer.from('QEVM\0\0\0\x03'), Buffer.from('\x08pc.ram'), Buffer.alloc(64)]));
      expect(stateHasDisplay(withVga)).toBe(true);
      expect(stateHasDisplay(without)).toBe(false);
      // No state file: a boot, which gets a screen.
      expect(stateHasDisplay(path.join(dir, 'missing'))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
