import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';

/**
 * Where a webhook may not point unless an admin allows private targets: this host itself
 * (loopback, any address of its own interfaces, "this network"), link-local (169.254/16 holds
 * cloud metadata services; fe80::/10), and multicast. Checked when a webhook is saved and again
 * at every send, after DNS resolution, on the very address the request then connects to, so a
 * name that resolves elsewhere later (DNS rebinding) is caught.
 */
const blocked = new net.BlockList();
blocked.addSubnet('0.0.0.0', 8, 'ipv4');
blocked.addSubnet('127.0.0.0', 8, 'ipv4');
blocked.addSubnet('169.254.0.0', 16, 'ipv4');
blocked.addSubnet('224.0.0.0', 4, 'ipv4');
blocked.addAddress('255.255.255.255', 'ipv4');
blocked.addAddress('::', 'ipv6');
blocked.addAddress('::1', 'ipv6');
blocked.addSubnet('fe80::', 10, 'ipv6');
blocked.addSubnet('ff00::', 8, 'ipv6');

/** The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d, also written in hex) or IPv4-compatible (::a.b.c.d) IPv6 address. */
export function embeddedIpv4(v6: string): string | null {
  const groups = expandIpv6(v6);
  if (!groups) return null;
  const head = groups.slice(0, 5).every((g) => g === 0);
  if (!head || (groups[5] !== 0xffff && groups[5] !== 0)) return null;
  // ::  and ::1 are IPv6's own unspecified and loopback addresses, not IPv4-compatible ones.
  if (groups[5] === 0 && groups[6] === 0 && groups[7] <= 1) return null;
  return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
}

/** The eight 16-bit groups of an IPv6 address (a trailing dotted IPv4 part allowed), or null. */
function expandIpv6(a: string): number[] | null {
  let s = a.replace(/^\[|\]$/g, '').split('%')[0];
  const v4 = s.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    if (!net.isIPv4(v4[2])) return null;
    const [b0, b1, b2, b3] = v4[2].split('.').map(Number);
    s = `${v4[1]}${((b0 << 8) | b1).toString(16)}:${((b2 << 8) | b3).toString(16)}`;
  }
  if (!net.isIPv6(s)) return null;
  const [left, right] = s.includes('::') ? s.split('::') : [s, null];
  const l = left ? left.split(':') : [];
  const r = right === null ? [] : right ? right.split(':') : [];
  const fill = right === null ? [] : Array<string>(8 - l.length - r.length).fill('0');
  const all = [...l, ...fill, ...r].map((g) => parseInt(g, 16));
  return all.length === 8 && all.every((n) => n >= 0 && n <= 0xffff) ? all : null;
}

/** The addresses of this host's own interfaces. */
function ownAddresses(): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(os.networkInterfaces())) for (const i of list ?? []) out.add(normalize(i.address));
  return out;
}

function normalize(address: string): string {
  const bare = address
    .replace(/^\[|\]$/g, '')
    .split('%')[0]
    .toLowerCase();
  if (net.isIPv6(bare)) {
    const v4 = embeddedIpv4(bare);
    if (v4) return v4;
    const g = expandIpv6(bare);
    return g ? g.map((n) => n.toString(16)).join(':') : bare;
  }
  return bare;
}

/** Why a webhook may not connect to this address (null: it may). */
export function refusedAddress(address: string, own: Set<string> = ownAddresses()): string | null {
  const a = normalize(address);
  const family = net.isIPv4(a) ? 'ipv4' : net.isIPv6(address.replace(/^\[|\]$/g, '').split('%')[0]) ? 'ipv6' : null;
  if (!family) return `${address} is not an IP address`;
  const v6 = family === 'ipv6' ? address.replace(/^\[|\]$/g, '').split('%')[0] : a;
  if (blocked.check(family === 'ipv4' ? a : v6, family)) return `${address} is a loopback, link-local, multicast or unspecified address`;
  if (own.has(a)) return `${address} is an address of the Hangar host itself`;
  return null;
}

export interface ResolvedTarget {
  url: URL;
  /** The address checked, which the request must connect to (no second lookup). */
  address: string;
  family: 4 | 6;
}

/** Resolve the URL's host once and check every address it has; refuse (throw with the reason) unless `allowPrivate`. */
export async function resolveTarget(rawUrl: string, allowPrivate: boolean): Promise<ResolvedTarget> {
  const url = new URL(rawUrl);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetRefused(`${url.protocol} URLs are not allowed: http or https only`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const found = net.isIP(host)
    ? [{ address: host, family: net.isIP(host) as 4 | 6 }]
    : await dns.lookup(host, { all: true, verbatim: true }).catch((e: NodeJS.ErrnoException) => {
        throw new TargetRefused(`${host} does not resolve (${e.code ?? e.message})`);
      });
  if (!found.length) throw new TargetRefused(`${host} does not resolve`);
  if (!allowPrivate) {
    const own = ownAddresses();
    for (const f of found) {
      const why = refusedAddress(f.address, own);
      if (why) throw new TargetRefused(`${url.host}: ${why} (an admin may allow private targets in Settings)`);
    }
  }
  return { url, address: found[0].address, family: found[0].family as 4 | 6 };
}

export class TargetRefused extends Error {}
