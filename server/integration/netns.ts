import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { run } from '@/server/drivers/exec';
import { ensureKernel } from '@/server/drivers/images/kernel';
import { TEST_CACHE } from './harness';

/**
 * A network namespace of a test's own for a second node (issue 21: "a second Hangar server process
 * in its own network namespace"), joined to the host by a veth pair on a /30 of 10.231.0.0/16:
 * the host end is where node A listens, the other end node B's address. B's 127.0.0.1 (where its
 * QEMU SSH forwards and its port forwards listen) and its NAT network are its own, as on another
 * host. The database is reached over its unix socket (a path: any namespace of this host sees it).
 * Processes enter it with `nsenter --net` only: `ip netns exec` would remount /sys, hiding the
 * cgroup hierarchy the node's containers need. Nothing is routed further than the host's end: B
 * reaches no mirror, so what its builds download comes from the test servers' shared cache (HANGAR_CACHE),
 * filled beforehand (makeNodeNet).
 */
export interface NodeNet {
  name: string;
  /** The host's end: node A listens here. */
  hostIp: string;
  /** Inside: node B listens here. */
  nodeIp: string;
  /** The argv prefix that runs a command inside. */
  enter: string[];
  /** The namespace and its veth pair gone (once no process is left in it). */
  remove(): Promise<void>;
}

/** A network tool's command (ip, tc), its failure an error naming it. */
async function must(argv: string[]): Promise<void> {
  const r = await run(argv, { timeoutMs: 15_000 });
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr.trim()}`);
}
const ip = (args: string[]) => must(['ip', ...args]);

/** A /30 no interface of this host uses yet. */
async function freeSubnet(): Promise<number> {
  const used = (await run(['ip', '-4', '-o', 'addr'], { timeoutMs: 15_000 })).stdout;
  for (let i = 0; i < 64; i++) {
    const k = randomBytes(2).readUInt16BE(0) % 16384;
    const third = (k * 4) >> 8;
    const fourth = (k * 4) & 255;
    if (!used.includes(`10.231.${third}.${fourth + 1}/`)) return k * 4;
  }
  throw new Error('no free /30 in 10.231.0.0/16');
}

export async function makeNodeNet(): Promise<NodeNet> {
  const tag = randomBytes(4).toString('hex');
  const name = `hgit-${tag}`;
  const host = `hgh${tag}`;
  const peer = `hgn${tag}`;
  const base = await freeSubnet();
  const addr = (n: number) => `10.231.${(base + n) >> 8}.${(base + n) & 255}`;
  const remove = async () => {
    await run(['ip', 'netns', 'del', name], { timeoutMs: 15_000 });
    await run(['ip', 'link', 'del', host], { timeoutMs: 15_000 });
  };
  try {
    await ip(['netns', 'add', name]);
    await ip(['link', 'add', host, 'type', 'veth', 'peer', 'name', peer]);
    await ip(['link', 'set', peer, 'netns', name]);
    await ip(['addr', 'add', `${addr(1)}/30`, 'dev', host]);
    await ip(['link', 'set', host, 'up']);
    const inside = (args: string[]) => ip(['-n', name, ...args]);
    await inside(['link', 'set', 'lo', 'up']);
    await inside(['addr', 'add', `${addr(2)}/30`, 'dev', peer]);
    await inside(['link', 'set', peer, 'up']);
    await inside(['route', 'add', 'default', 'via', addr(1)]);
  } catch (err) {
    await remove();
    throw err;
  }
  if (!fs.existsSync(`/run/netns/${name}`)) throw new Error(`ip netns add made no /run/netns/${name}`);
  // The guest kernel every busybox build takes from the cache: on a host whose cache is empty, B's own build could not fetch it.
  await ensureKernel(path.join(TEST_CACHE, 'kernels'), () => undefined).catch(async (err: Error) => {
    await remove();
    throw new Error(`the guest kernel for the node's builds: ${err.message}`);
  });
  return { name, hostIp: addr(1), nodeIp: addr(2), enter: ['nsenter', `--net=/run/netns/${name}`], remove };
}

/**
 * Traffic from the host to the node limited to `rate` (tc's token bucket on the host's end of the
 * veth pair, e.g. `100mbit`): a test that must act while a stream to B is under way gets time to.
 * Returns the undo.
 */
export async function slowLink(net: Pick<NodeNet, 'name'>, rate: string): Promise<() => Promise<void>> {
  const dev = `hgh${net.name.slice('hgit-'.length)}`;
  const tc = (args: string[]) => must(['tc', ...args]);
  await tc(['qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', rate, 'burst', '64kb', 'latency', '100ms']);
  return () => tc(['qdisc', 'del', 'dev', dev, 'root']);
}
