import { describe, expect, it } from 'vitest';
import { parseRemoteProc } from './stats';

// What the loop prints for one reading: /proc/stat, /proc/meminfo, /proc/net/dev and /proc/diskstats, one after another.
const READING = `cpu  1000 20 300 50000 400 10 5 2 0 0
cpu0 500 10 150 25000 200 5 3 1 0 0
cpu1 500 10 150 25000 200 5 2 1 0 0
intr 12345
MemTotal:        2048000 kB
MemFree:          512000 kB
MemAvailable:    1024000 kB
Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  999999    10    0    0    0     0          0         0   999999    10    0    0    0     0       0          0
  eth0: 5000       40    0    0    0     0          0         0     7000      30    0    0    0     0       0          0
 254       0 vda 100 0 2000 50 300 0 4000 80 0 120 130 0 0 0 0
 254       1 vda1 90 0 1800 45 290 0 3900 75 0 110 120 0 0 0 0
   7       0 loop0 5 0 10 0 0 0 0 0 0 1 1 0 0 0 0
`;

describe('adopted machines: figures from /proc over SSH', () => {
  it('CPU time of all CPUs (busy: all but idle and iowait) and their number, memory in use of its total, network but loopback, whole disks only', () => {
    expect(parseRemoteProc(READING)).toEqual({
      cpuNs: ((1000 + 20 + 300 + 10 + 5 + 2) * 1e9) / 100,
      cpus: 2,
      memBytes: (2048000 - 1024000) * 1024,
      memLimitBytes: 2048000 * 1024,
      netRxBytes: 5000,
      netTxBytes: 7000,
      diskReadBytes: 2000 * 512,
      diskWriteBytes: 4000 * 512,
    });
  });

  it('gives only what a reading holds', () => {
    expect(parseRemoteProc('nothing here\n')).toEqual({});
  });
});
