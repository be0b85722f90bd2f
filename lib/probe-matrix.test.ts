import { describe, expect, it } from 'vitest';
import { failedRow, formatMatrix, probeChecks, rowOf } from './probe-matrix';

describe('probe matrix', () => {
  it('makes a row per image and a cell per check, with what was seen or why not, and prints it as a table', () => {
    const checks = probeChecks(['nginx'], 'nginx', 'http://127.0.0.1/');
    expect(checks).toEqual(['package nginx', 'unit nginx', 'network http://127.0.0.1/']);
    const good = rowOf('debian-12', checks, {
      ok: true,
      image: 'debian-12',
      packages: [{ name: 'nginx', version: '1.22' }],
      unit: { name: 'nginx', state: 'active', ok: true },
      network: { url: 'http://127.0.0.1/', status: 200, error: null, ok: true },
      durationS: 1,
    });
    const bare = rowOf('oci-0123456789ab', checks, {
      ok: false,
      image: 'oci-0123456789ab',
      packages: [{ name: 'nginx', version: null }],
      unit: { name: 'nginx', state: 'no systemd running', ok: false },
      network: { url: 'http://127.0.0.1/', status: null, error: 'ECONNREFUSED', ok: false },
      error: 'no apt-get in this image',
      durationS: 1,
    });
    expect(bare.cells.map((c) => c.detail)).toEqual(['no apt-get in this image', 'no systemd running', 'ECONNREFUSED']);
    const gone = failedRow('nosuch', checks, 'Image "nosuch" not found');
    const text = formatMatrix({ ok: false, checks, rows: [good, bare, gone], durationS: 2 });
    expect(text.split('\n')[0]).toMatch(/^IMAGE\s+package nginx\s+unit nginx\s+network http/);
    expect(text.split('\n')[1]).toMatch(/^debian-12\s+ok\s+ok\s+ok$/);
    expect(text.split('\n')[2]).toMatch(/^oci-0123456789ab\s+fail: no apt-get in this image\s+fail: no systemd running\s+fail: ECONNREFUSED$/);
    expect(text.split('\n')[3]).toContain('fail: Image "nosuch" not found');
  });
});
