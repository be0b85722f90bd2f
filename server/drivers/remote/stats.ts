import type { Client } from 'ssh2';
import { kbField, parseMeminfoUsed, parseNetDev } from '../proc-stats';
import { shellLine } from '@/lib/shell-quote';
import { sshConnect, type SshTarget } from '../ssh';
import type { MachineCounters } from '../types';

/** Linux's USER_HZ: the unit of /proc/stat's CPU times. */
const USER_HZ = 100;
/** A reading older than this is not given (the connection is down: the graphs show a gap, not stale figures). */
const FRESH_MS = 6000;
const MARK = '@@hangar-stats@@';

/**
 * The machine's /proc figures every 2 s, printed by one shell loop on one SSH connection (not a
 * login per reading). Nothing is installed there: cat and sleep.
 */
const LOOP = `while :; do cat /proc/stat /proc/meminfo /proc/net/dev /proc/diskstats 2>/dev/null; echo ${MARK}; sleep 2; done`;

/** Whole disks of /proc/diskstats (not partitions, loop or RAM devices): their sectors read and written. */
const WHOLE_DISK = /^(sd[a-z]+|vd[a-z]+|xvd[a-z]+|hd[a-z]+|nvme\d+n\d+|mmcblk\d+)$/;

/** One reading of the loop's output: CPU time of all CPUs, memory in use and its total, network and disk bytes. */
export function parseRemoteProc(text: string): MachineCounters & { cpus?: number } {
  const out: MachineCounters & { cpus?: number } = {};
  const cpu = /^cpu\s+(.*)$/m.exec(text);
  if (cpu) {
    // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
    const f = cpu[1].trim().split(/\s+/).map(Number);
    const busy = [0, 1, 2, 5, 6, 7].reduce((a, i) => a + (Number.isFinite(f[i]) ? f[i] : 0), 0);
    out.cpuNs = (busy * 1e9) / USER_HZ;
  }
  const cpus = text.match(/^cpu\d+\s/gm)?.length;
  if (cpus) out.cpus = cpus;
  const used = parseMeminfoUsed(text);
  if (used !== null) out.memBytes = used;
  const total = kbField(text, 'MemTotal');
  if (total !== null) out.memLimitBytes = total;
  const net = parseNetDev(text);
  if (net) {
    out.netRxBytes = net.rx;
    out.netTxBytes = net.tx;
  }
  let read = 0;
  let written = 0;
  let disks = 0;
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // major minor name reads merged sectors-read ms writes merged sectors-written ...
    if (f.length < 10 || !WHOLE_DISK.test(f[2])) continue;
    read += Number(f[5]) * 512;
    written += Number(f[9]) * 512;
    disks++;
  }
  if (disks) {
    out.diskReadBytes = read;
    out.diskWriteBytes = written;
  }
  return out;
}

/**
 * An adopted machine's live figures, read over one SSH connection kept open while it is watched
 * (started by the first reading asked for; dropped, with the connection, after 60 s without one,
 * or when the machine is forgotten). A dropped connection is opened again at the next reading.
 */
export class StatsReader {
  private latest: { at: number; counters: MachineCounters & { cpus?: number } } | null = null;
  private client: Client | null = null;
  private connecting = false;
  private askedAt = 0;
  private idle: NodeJS.Timeout | null = null;

  constructor(private readonly target: SshTarget) {}

  /** The last reading, if fresh; starts the connection when there is none. */
  read(): (MachineCounters & { cpus?: number }) | null {
    this.askedAt = Date.now();
    if (!this.client && !this.connecting) void this.open();
    return this.latest && Date.now() - this.latest.at < FRESH_MS ? this.latest.counters : null;
  }

  stop(): void {
    if (this.idle) clearInterval(this.idle);
    this.idle = null;
    this.client?.end();
    this.client = null;
  }

  private async open(): Promise<void> {
    this.connecting = true;
    let c: Client;
    try {
      c = await sshConnect(this.target, 10_000);
    } catch {
      this.connecting = false;
      return;
    } finally {
      this.connecting = false;
    }
    this.client = c;
    const gone = () => {
      if (this.client === c) this.client = null;
    };
    c.on('close', gone);
    c.on('error', gone);
    // An argv quoted word by word, as the journal follower sends its loop (SSH carries one command string).
    c.exec(shellLine(['sh', '-c', LOOP]), (err, stream) => {
      if (err) return void c.end();
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        buf += d;
        for (let i = buf.indexOf(MARK); i >= 0; i = buf.indexOf(MARK)) {
          this.latest = { at: Date.now(), counters: parseRemoteProc(buf.slice(0, i)) };
          buf = buf.slice(i + MARK.length);
        }
        // A reading is a few KiB: anything far bigger without a mark is not this loop's.
        if (buf.length > 1 << 20) c.end();
      });
      stream.on('close', () => c.end());
    });
    // Nobody asked for a minute (the page closed): the connection goes.
    if (!this.idle) {
      this.idle = setInterval(() => {
        if (Date.now() - this.askedAt > 60_000) {
          this.client?.end();
          this.client = null;
        }
      }, 10_000);
      this.idle.unref();
    }
  }
}
