import { describe, expect, it } from 'vitest';
import { parseProcStatCpu } from './host-usage';
import { cpuBusyPct, rate, remember, sampleFrom } from './stats';

describe('live figures', () => {
  it('turns two readings into per-second rates; a counter that went back is no traffic, a first or stale reading no rate', () => {
    expect(rate({ at: 0, v: 100 }, 300, 2000)).toBe(100);
    expect(rate({ at: 0, v: 300 }, 100, 2000)).toBe(0);
    expect(rate(undefined, 100, 2000)).toBeNull();
    expect(rate({ at: 0, v: 100 }, undefined, 2000)).toBeNull();
    expect(rate({ at: 2000, v: 100 }, 200, 2000)).toBeNull();
    expect(rate({ at: 0, v: 100 }, 200, 60_000)).toBeNull();
  });

  it("makes a sample: CPU as a share of the machine's own vCPUs, levels as they are, unknowns as null", () => {
    const prev = remember({}, { cpuNs: 0, diskReadBytes: 0, diskWriteBytes: 1000, netRxBytes: 0 }, 0);
    const cur = { cpuNs: 2e9, memBytes: 5, memLimitBytes: 10, diskReadBytes: 4096, diskWriteBytes: 1000, diskUsedBytes: 7, netRxBytes: 2000 };
    // 2 s of CPU in 2 s on 2 vCPUs: half busy.
    expect(sampleFrom(2000, 2, prev, cur)).toEqual({
      t: 2000,
      cpuPct: 50,
      memBytes: 5,
      memLimitBytes: 10,
      guestMemBytes: null,
      diskReadBps: 2048,
      diskWriteBps: 0,
      diskUsedBytes: 7,
      netRxBps: 1000,
      netTxBps: null,
    });
    expect(sampleFrom(2000, 1, {}, cur)).toMatchObject({ cpuPct: null, diskReadBps: null, memBytes: 5 });
  });

  it("keeps the last reading of a counter a tick did not have (a VM's network while its agent was busy), so the traffic meanwhile is not lost", () => {
    let r = remember({}, { cpuNs: 0, netRxBytes: 0 }, 0);
    r = remember(r, { cpuNs: 1e9 }, 2000);
    expect(r.netRxBytes).toEqual({ at: 0, v: 0 });
    expect(sampleFrom(4000, 1, r, { cpuNs: 2e9, netRxBytes: 8000 })).toMatchObject({ cpuPct: 50, netRxBps: 2000 });
    // A machine given no CPUs (an adopted server): a share of the CPUs it says it has (half a CPU of 4).
    expect(sampleFrom(4000, 0, r, { cpuNs: 2e9, cpus: 4 })).toMatchObject({ cpuPct: 12.5 });
  });

  it("reads the host's CPU times from /proc/stat (iowait counts as idle) and their busy share between two readings", () => {
    const a = parseProcStatCpu('cpu  100 0 100 700 100 0 0 0 0 0\ncpu0 1 2 3 4\n')!;
    expect(a).toEqual({ idle: 800, total: 1000 });
    const b = parseProcStatCpu('cpu  200 0 200 1300 300 0 0 0 0 0\n')!;
    expect(cpuBusyPct(a, b)).toBe(20);
    expect(cpuBusyPct(a, a)).toBeNull();
    expect(parseProcStatCpu('intr 1 2 3')).toBeNull();
  });
});
