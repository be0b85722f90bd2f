import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import type { ForkLink } from '@/lib/contracts/fork-links';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = `Usage: hangar fork-link [ls | create SNAPSHOT|--machine M [--max N] [--lifetime 2h] [--expires 1d] [--cpus N] [--memory MiB] [--label L]
       | forks LINK | revoke LINK [--keep-forks]]
Example: hangar fork-link create demo-ready --max 5 --lifetime 2h --expires 1d`;

function api(): { client: ApiClient; url: string } {
  const cfg = loadConfig();
  return { client: createApiClient({ baseUrl: cfg.url, token: cfg.token }), url: cfg.url };
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "30m", "2h", "1d" (or plain seconds) in seconds; else a usage error naming the option. */
export function seconds(option: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = v.match(/^(\d+)([smhd]?)$/);
  if (!m) throw new CliError(`--${option} ${v}: a duration like 90s, 30m, 2h or 1d.\n${USAGE}`, 2);
  return Number(m[1]) * UNITS[m[2] || 's'];
}

function whole(option: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--${option} ${v}: a whole number.\n${USAGE}`, 2);
  return Number(v);
}

const when = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) : '-');
const span = (s: number) => (s % 86400 === 0 ? `${s / 86400}d` : s % 3600 === 0 ? `${s / 3600}h` : s % 60 === 0 ? `${s / 60}m` : `${s}s`);

function line(l: ForkLink): string {
  const label = l.label ? ` "${l.label}"` : '';
  const from = l.snapshotLabel ?? l.snapshotId;
  return `${l.id}${label}  ${l.state}  ${l.used}/${l.maxForks} forks  each ${span(l.lifetimeSeconds)}  from ${from}  expires ${when(l.expiresAt)}`;
}

/** hangar fork-link ...: links that give whoever opens them a private running fork of a snapshot. */
export async function forkLink(argv: string[], json: boolean): Promise<void> {
  const { client, url } = api();
  const [sub = 'ls', ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const items = (await client.forkLinks.list()).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('No fork links. Make one: hangar fork-link create SNAPSHOT --max 5 --lifetime 2h');
      for (const l of items) console.log(line(l));
      return;
    }
    case 'create': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          machine: { type: 'string' },
          max: { type: 'string' },
          lifetime: { type: 'string' },
          expires: { type: 'string' },
          cpus: { type: 'string' },
          memory: { type: 'string' },
          label: { type: 'string' },
        },
      });
      const snapshot = positionals[0];
      if (!snapshot === !values.machine) throw new CliError(USAGE, 2);
      const r = await client.forkLinks.create({
        ...(snapshot ? { snapshot } : { machine: values.machine }),
        maxForks: whole('max', values.max),
        lifetimeSeconds: seconds('lifetime', values.lifetime),
        expiresInSeconds: seconds('expires', values.expires),
        cpus: whole('cpus', values.cpus),
        memoryMib: whole('memory', values.memory),
        label: values.label,
      });
      if (json) return printJson({ ...r, url: `${url}${r.path}` });
      console.log(`Made ${line(r.link)}`);
      console.log(`Link (shown once): ${url}${r.path}`);
      return;
    }
    case 'forks': {
      if (!rest[0]) throw new CliError(USAGE, 2);
      const items = (await client.forkLinks.forks(rest[0])).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('Nobody opened this link yet.');
      for (const f of items)
        console.log(
          `${f.id}  ${f.machineName ?? '-'}  ${f.state}${f.reason ? ` (${f.reason})` : ''}  ` +
            `opened ${when(f.createdAt)} from ${f.ip ?? '?'}  ends ${when(f.expiresAt)}`,
        );
      return;
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { 'keep-forks': { type: 'boolean' } } });
      if (!positionals[0]) throw new CliError(USAGE, 2);
      const l = await client.forkLinks.revoke(positionals[0], values['keep-forks'] ? 'keep' : 'destroy');
      return json ? printJson(l) : console.log(`Revoked ${l.id}: ${values['keep-forks'] ? 'its forks are kept' : 'its forks are destroyed'}.`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}
