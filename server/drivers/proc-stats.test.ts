import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  cgroupCpuNs,
  cgroupMemory,
  kbField,
  parseFlatKeyed,
  parseMeminfoUsed,
  parseNetDev,
  parseProcCgroup,
  parseProcStatCpuNs,
  treeBytes,
} from './proc-stats';

describe('procfs and cgroup readers', () => {
  it('reads utime + stime from /proc/PID/stat even when the command name has spaces and parentheses', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[11] = '250'; // utime, field 14
    fields[12] = '50'; // stime, field 15
    expect(parseProcStatCpuNs(`1234 (qemu (x) sys) ${fields.join(' ')}`)).toBe(3e9);
    expect(parseProcStatCpuNs('garbage')).toBeNull();
  });

  it('sums every interface but loopback from /proc/net/dev, and says so when there is none', () => {
    const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  900000     100    0    0    0     0          0         0   900000     100    0    0    0     0       0          0
  eth0:    1500      10    0    0    0     0          0         0      700       7    0    0    0     0       0          0
 host0:     500       5    0    0    0     0          0         0      300       3    0    0    0     0       0          0
`;
    expect(parseNetDev(dev)).toEqual({ rx: 2000, tx: 1000 });
    expect(parseNetDev(dev.split('\n').slice(0, 3).join('\n'))).toBeNull();
    // The guest agent sends net/dev and meminfo together: meminfo's lines are not interfaces.
    expect(parseNetDev(`${dev}MemTotal:  131072 kB\nMemAvailable:   65536 kB\n`)).toEqual({ rx: 2000, tx: 1000 });
  });

  it('reads kB fields and what a guest uses (MemTotal - MemAvailable)', () => {
    const meminfo = 'MemTotal:         131072 kB\nMemFree:  1000 kB\nMemAvailable:      65536 kB\n';
    expect(kbField(meminfo, 'MemTotal')).toBe(131072 * 1024);
    expect(parseMeminfoUsed(meminfo)).toBe(65536 * 1024);
    expect(parseMeminfoUsed('MemTotal: 1 kB')).toBeNull();
  });

  it("parses flat-keyed files and a process's cgroups (v1 controllers, joined ones, named ones, and v2)", () => {
    expect([...parseFlatKeyed('usage_usec 12\nuser_usec 5\nbogus\n')]).toEqual([
      ['usage_usec', 12],
      ['user_usec', 5],
    ]);
    expect(parseFlatKeyed('read_bytes: 4096\nwrite_bytes: 8192').get('write_bytes')).toBe(8192);
    const cg = parseProcCgroup('9:name=systemd:/hangar/mch_a\n4:memory:/hangar/mch_a\n2:cpu,cpuacct:/x\n0::/hangar/mch_a\n');
    expect(cg.get('systemd')).toBe('/hangar/mch_a');
    expect(cg.get('memory')).toBe('/hangar/mch_a');
    expect(cg.get('cpuacct')).toBe('/x');
    expect(cg.get('')).toBe('/hangar/mch_a');
  });

  it("reads a cgroup's CPU and memory from v2 or v1 files, leaving out the file cache it can drop", () => {
    const v2 = fs.mkdtempSync(path.join(os.tmpdir(), 'cg2-'));
    fs.writeFileSync(path.join(v2, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\n');
    fs.writeFileSync(path.join(v2, 'memory.current'), '10000000\n');
    fs.writeFileSync(path.join(v2, 'memory.stat'), 'anon 6000000\ninactive_file 4000000\n');
    fs.writeFileSync(path.join(v2, 'memory.max'), 'max\n');
    expect(cgroupCpuNs(v2)).toBe(1_500_000);
    expect(cgroupMemory(v2)).toEqual({ bytes: 6_000_000, limit: undefined });
    const v1 = fs.mkdtempSync(path.join(os.tmpdir(), 'cg1-'));
    fs.writeFileSync(path.join(v1, 'cpuacct.usage'), '777\n');
    fs.writeFileSync(path.join(v1, 'memory.usage_in_bytes'), '5000\n');
    fs.writeFileSync(path.join(v1, 'memory.stat'), 'total_inactive_file 1000\n');
    fs.writeFileSync(path.join(v1, 'memory.limit_in_bytes'), '268435456\n');
    expect(cgroupCpuNs(v1)).toBe(777);
    expect(cgroupMemory(v1)).toEqual({ bytes: 4000, limit: 268435456 });
    // v1's "no limit" is a huge page-rounded number, not a limit.
    fs.writeFileSync(path.join(v1, 'memory.limit_in_bytes'), '9223372036854771712\n');
    expect(cgroupMemory(v1).limit).toBeUndefined();
    expect(cgroupMemory(path.join(v1, 'gone'))).toEqual({});
  });

  it('measures a tree on disk, and stops counting past its entry budget', async () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tree-'));
    fs.mkdirSync(path.join(d, 'sub'));
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(d, 'sub', `f${i}`), Buffer.alloc(8192, 1));
    const all = (await treeBytes(d))!;
    expect(all).toBeGreaterThanOrEqual(5 * 8192);
    expect((await treeBytes(d, 2))!).toBeLessThan(all);
    expect(await treeBytes(path.join(d, 'missing'))).toBeUndefined();
  });
});
