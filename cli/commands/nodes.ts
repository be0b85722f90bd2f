import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { formatDuration } from '@/lib/format';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = 'Usage: hangar nodes [ls | token [--ttl 30m] | drain NAME | undrain NAME | rm NAME]';

/** `30m`, `2h`, `1d`, `90s` or plain seconds. */
export function parseTtl(s: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(s.trim());
  if (!m) throw new CliError(`--ttl ${s}: a duration like 30m, 2h or 1d`, 2);
  const n = Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (n < 1 || n > 7 * 86400) throw new CliError(`--ttl ${s}: between 1 s and 7 days`, 2);
  return n;
}

export async function nodes(argv: string[], json: boolean): Promise<void> {
  const cfg = loadConfig();
  const client = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === 'ls' || sub === 'list') {
    const [{ items }, health] = await Promise.all([client.nodes.list(), client.health()]);
    if (json) return printJson(items);
    for (const n of items) {
      const state = `${n.online ? 'online' : 'offline'}${n.state === 'draining' ? ', draining' : ''}`;
      // On one node the row is this host, measured now: no heartbeat to speak of.
      const beat = health.cluster.enabled ? `heartbeat ${formatDuration(n.heartbeatAgeMs)} ago` : 'this host';
      console.log(
        `${(n.name + (n.self ? ' *' : '')).padEnd(20)} ${state.padEnd(18)} ${n.version.padEnd(10)} ${n.internalUrl.padEnd(30)} ` +
          `${beat}  ${n.capabilities.join(' ')}`,
      );
    }
    if (!health.cluster.enabled) console.log('One node: this Hangar keeps its state in SQLite. Clusters need PostgreSQL (DATABASE_URL).');
    return;
  }
  if (sub === 'token') {
    const { values } = parseArgs({ args: rest, options: { ttl: { type: 'string' } } });
    const made = await client.nodes.createToken(values.ttl ? { ttlSeconds: parseTtl(values.ttl) } : {});
    if (json) return printJson(made);
    console.log(`Join token (shown once, single use, expires ${new Date(made.expiresAt).toISOString()}):\n  ${made.token}`);
    console.log(`On the new node, with the same DATABASE_URL:\n  ${made.command}`);
    return;
  }
  if (sub === 'drain' || sub === 'undrain' || sub === 'rm') {
    const [name] = rest;
    if (!name) throw new CliError(USAGE, 2);
    if (sub === 'rm') {
      await client.nodes.remove(name);
      return json ? printJson({ ok: true }) : void console.log(`Removed node ${name}.`);
    }
    const n = sub === 'drain' ? await client.nodes.drain(name) : await client.nodes.undrain(name);
    return json ? printJson(n) : void console.log(`Node ${n.name}: ${n.state}.`);
  }
  throw new CliError(USAGE, 2);
}
