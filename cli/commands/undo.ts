import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import type { UndoRing } from '@/lib/contracts/undo';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

const USAGE = `Usage: hangar undo NAME --minutes N | hangar undo enable NAME --every 5m --keep K | hangar undo disable NAME | hangar undo ls NAME
Example: hangar undo enable web --every 5m --keep 6; later: hangar undo web --minutes 10`;

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const when = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '-');

/** "5m", "2h" or a bare number of minutes, as whole minutes; a usage error otherwise. */
function minutesOf(flag: string, v: string | undefined): number {
  const m = v?.match(/^(\d+)(m|min|h)?$/);
  if (!m) throw new CliError(`--${flag} ${v ?? ''}: minutes, like 5m or 2h.\n${USAGE}`.replace(' \n', '\n'), 2);
  return Number(m[1]) * (m[2] === 'h' ? 60 : 1);
}

function count(flag: string, v: string | undefined): number {
  if (!v || !/^\d+$/.test(v)) throw new CliError(`--${flag} ${v ?? ''}: a whole number.\n${USAGE}`, 2);
  return Number(v);
}

function show(name: string, r: UndoRing): void {
  if (r.everyMinutes === null) console.log(`${name}: undo ring off. Turn it on: hangar undo enable ${name} --every 5m --keep 6`);
  else {
    const last = r.lastStatus ? `${r.lastStatus} ${when(r.lastRunAt)}${r.lastError ? ` (${r.lastError})` : ''}` : 'none yet';
    console.log(`${name}: an undo point every ${r.everyMinutes} min, keeping ${r.keep}; next ${when(r.nextRunAt)}; last ${last}`);
  }
  for (const p of r.points) console.log(`${p.id}  ${when(p.createdAt)}  ${p.label}`);
}

/** hangar undo ...: a machine's ring of recent checkpoints, and going back N minutes. */
export async function undo(argv: string[], json: boolean): Promise<void> {
  const client = api();
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: ['enable', 'disable', 'ls'].includes(sub ?? '') ? rest : argv,
    allowPositionals: true,
    options: { every: { type: 'string' }, keep: { type: 'string' }, minutes: { type: 'string' } },
  });
  const name = positionals[0];
  if (!name || positionals.length > 1) throw new CliError(USAGE, 2);
  switch (sub) {
    case 'enable': {
      const r = await client.undo.enable(name, { everyMinutes: minutesOf('every', values.every), keep: count('keep', values.keep) });
      return json ? printJson(r) : show(name, r);
    }
    case 'disable': {
      const r = await client.undo.disable(name);
      return json ? printJson(r) : console.log(`${name}: undo ring off (its ${r.points.length} undo points stay, as snapshots).`);
    }
    case 'ls': {
      const r = await client.undo.get(name);
      return json ? printJson(r) : show(name, r);
    }
    default: {
      if (values.minutes === undefined) throw new CliError(USAGE, 2);
      const done = await followJob(client, await client.undo.undo(name, minutesOf('minutes', values.minutes)), json);
      if (json) return printJson(done.result);
      console.log(`${name}: back ${values.minutes} (restored to ${(done.result as { snapshot?: string } | null)?.snapshot ?? 'an undo point'}).`);
    }
  }
}
