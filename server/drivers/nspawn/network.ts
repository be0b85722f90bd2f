import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { firstLine, run } from '../exec';
import { initPid } from '../shared/holder-files';
import type { MachineSpec } from '../types';

/**
 * NAT networking for containers: a veth pair (host side named by us, `host0` inside), a /30 of
 * 10.213.0.0/16 per machine leased under the data dir, the host end as gateway, outbound traffic
 * masqueraded by iptables, forwarding on. Port forwards are proxied by the console holder (so
 * they answer on the host's loopback too, like QEMU's hostfwd, and need no DNAT).
 */

const SLOTS = 16384;
export interface NatPlan {
  index: number;
  hostIf: string;
  hostAddr: string;
  guestAddr: string;
  cidr: string;
}

export function natPlan(machineId: string, index: number): NatPlan {
  const base = (10 << 24) | (213 << 16) | (index * 4);
  const ip = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
  // Interface names have 15 characters at most: a hash of the machine id keeps them apart.
  const hostIf = `hg-${createHash('sha256').update(machineId).digest('hex').slice(0, 10)}`;
  return { index, hostIf, hostAddr: ip(base + 1), guestAddr: ip(base + 2), cidr: `${ip(base)}/30` };
}

const leaseDir = (layers: string) => path.join(path.dirname(layers), 'net', 'leases');

/** The machine's /30: its lease, or a free one taken by a file made exclusively (two creates cannot take one slot). */
export function leaseSubnet(m: Pick<MachineSpec, 'id' | 'layers'>): number {
  const dir = leaseDir(m.layers);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A machine keeps its subnet (a restore branches the same machine again).
  for (const f of fs.readdirSync(dir)) {
    try {
      if (fs.readFileSync(path.join(dir, f), 'utf8') === m.id) return Number(f);
    } catch {
      // released meanwhile
    }
  }
  const start = parseInt(createHash('sha256').update(m.id).digest('hex').slice(0, 8), 16) % SLOTS;
  for (let i = 0; i < SLOTS; i++) {
    const index = (start + i) % SLOTS;
    // Slot 0 would be the network's own address range start: skipped.
    if (index === 0) continue;
    try {
      fs.writeFileSync(path.join(dir, String(index)), m.id, { flag: 'wx', mode: 0o600 });
      return index;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new Error('No free container subnet left in 10.213.0.0/16.');
}

export function releaseSubnet(m: Pick<MachineSpec, 'id' | 'layers'>, index: unknown): void {
  if (typeof index !== 'number') return;
  const file = path.join(leaseDir(m.layers), String(index));
  try {
    if (fs.readFileSync(file, 'utf8') === m.id) fs.rmSync(file);
  } catch {
    // not leased
  }
}

/**
 * systemd-networkd inside an OS container leaves host0 to Hangar, which sets it up from the host
 * (its default would ask DHCP, which nobody answers, and it would fight over the address).
 */
export const NETWORKD_UNMANAGED = '[Match]\nName=host0\n\n[Link]\nUnmanaged=yes\n';

/** The host's resolvers for the container: the uplink servers where resolved runs a local stub. */
export const resolvConfMode = () => (fs.existsSync('/run/systemd/resolve/resolv.conf') ? 'copy-uplink' : 'copy-host');

async function must(argv: string[]): Promise<void> {
  const r = await run(argv, { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`${argv.slice(0, 3).join(' ')} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
}

const masquerade = (plan: NatPlan) => [
  '-t',
  'nat',
  'POSTROUTING',
  '-s',
  plan.cidr,
  '!',
  '-o',
  plan.hostIf,
  '-j',
  'MASQUERADE',
  '-m',
  'comment',
  '--comment',
  `hangar ${plan.hostIf}`,
];
const rule = (op: '-A' | '-D' | '-C', r: string[]) => ['iptables', '-w', '5', r[0], r[1], op, ...r.slice(2)];
/** The iptables command that adds (-A), checks (-C) or removes (-D) the container's masquerade rule. */
export const masqueradeRule = (plan: NatPlan, op: '-A' | '-D' | '-C') => rule(op, masquerade(plan));

/**
 * Both ends of the veth once nspawn made it: the host end's address, the container's address
 * and default route (set from the host through the container's network namespace, so it works
 * with or without an init inside), forwarding and masquerading for outbound traffic.
 */
export async function setUpNat(plan: NatPlan, init: number): Promise<void> {
  const end = Date.now() + 10_000;
  while (!fs.existsSync(`/sys/class/net/${plan.hostIf}`)) {
    if (Date.now() > end) throw new Error(`The container's network interface ${plan.hostIf} did not appear.`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await must(['ip', 'addr', 'replace', `${plan.hostAddr}/30`, 'dev', plan.hostIf]);
  await must(['ip', 'link', 'set', plan.hostIf, 'up']);
  const inside = ['nsenter', '-t', String(init), '-n', '--'];
  await must([...inside, 'ip', 'link', 'set', 'lo', 'up']);
  await must([...inside, 'ip', 'addr', 'replace', `${plan.guestAddr}/30`, 'dev', 'host0']);
  await must([...inside, 'ip', 'link', 'set', 'host0', 'up']);
  await must([...inside, 'ip', 'route', 'replace', 'default', 'via', plan.hostAddr]);
  fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  if ((await run(rule('-C', masquerade(plan)), { timeoutMs: 15_000 })).code !== 0) await must(rule('-A', masquerade(plan)));
}

/** The masquerade rule goes with the container (the veth goes by itself). */
export async function tearDownNat(plan: NatPlan): Promise<void> {
  while ((await run(rule('-D', masquerade(plan)), { timeoutMs: 15_000 })).code === 0) {
    // one rule per start, normally; repeated starts after a crash could leave more
  }
}

/** A process that exists and has not ended (a zombie has ended). */
function processLives(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The NAT network of a container nspawn has just started (`nspawn`: its pid). */
export async function natUpFor(nat: NatPlan, nspawn: number): Promise<void> {
  // nspawn's first child is a helper that forks the container's init and goes: wait for the
  // process whose network namespace is not ours, and for the host end of the veth.
  const ownNs = fs.readlinkSync('/proc/self/ns/net');
  const nsOf = (pid: number | null) => {
    try {
      return pid ? fs.readlinkSync(`/proc/${pid}/ns/net`) : null;
    } catch {
      return null;
    }
  };
  // The pid is first a shell that moves itself into the container's cgroups and then execs
  // nspawn: on a busy host that takes a while, so it counts as alive until it is gone.
  const end = Date.now() + 30_000;
  for (;;) {
    const init = initPid(nspawn);
    const ns = nsOf(init);
    if (init && ns && ns !== ownNs && fs.existsSync(`/sys/class/net/${nat.hostIf}`)) return setUpNat(nat, init);
    if (!processLives(nspawn)) throw new Error('The container exited before its network could be set up: see its console log.');
    if (Date.now() > end) throw new Error(`The container's network did not come up within 30 s (no ${nat.hostIf} on the host).`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
