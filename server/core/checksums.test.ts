import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { addChecksums, readChecksums, verifyChecksums } from './checksums';

describe('snapshot checksums', () => {
  it('writes sha256sum-style sums, verifies them and catches a damaged or missing file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sums-'));
    fs.writeFileSync(path.join(dir, 'state'), 'device state');
    fs.writeFileSync(path.join(dir, 'ram'), Buffer.alloc(1 << 20));
    expect(await addChecksums(dir, ['state', 'absent'])).toEqual(['state']);
    expect(await addChecksums(dir, ['state', 'ram'])).toEqual(['ram']);
    expect([...readChecksums(dir).keys()]).toEqual(['state', 'ram']);
    expect(fs.readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8')).toMatch(/^[0-9a-f]{64} {2}state\n/);
    await verifyChecksums(dir, undefined, ['state']);
    fs.appendFileSync(path.join(dir, 'ram'), 'x');
    await expect(verifyChecksums(dir)).rejects.toThrow('ram: checksum mismatch');
    await verifyChecksums(dir, ['state']);
    fs.rmSync(path.join(dir, 'state'));
    await expect(verifyChecksums(dir, ['state'])).rejects.toThrow('state: missing');
    await expect(verifyChecksums(dir, [], ['disk.qcow2'])).rejects.toThrow('disk.qcow2: no checksum recorded');
  });
});
