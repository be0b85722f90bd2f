import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { KEEP_RULES, type Keep, type Schedule } from '@/lib/contracts/schedules';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = `Usage: hangar schedule [ls [MACHINE] | add MACHINE|--tag TAG --cron EXPR [--tz ZONE] [--keep-last N] [--keep-hourly N]
       [--keep-daily N] [--keep-weekly N] [--keep-monthly N] [--backup-to TARGET [--backup-keep N]] | rm ID | run ID]
Example: hangar schedule add web --cron '0 3 * * *' --tz Europe/Berlin --keep-last 3 --keep-daily 7`;

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const when = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 16) : '-');
export const keepWords = (k: Keep) =>
  KEEP_RULES.filter((r) => (k[r] ?? 0) > 0)
    .map((r) => `${r} ${k[r]}`)
    .join(', ');

function line(s: Schedule): string {
  const target = s.machineId ? (s.machineName ?? s.machineId) : `tag:${s.tag}`;
  const last = s.lastStatus ? `${s.lastStatus} ${when(s.lastRunAt)}` : 'never run';
  const err = s.lastError ? ` (${s.lastError})` : '';
  return `${s.id}  ${target}  "${s.cron}" ${s.timeZone}  keep ${keepWords(s.keep)}  next ${when(s.nextRunAt)}  last ${last}${err}`;
}

/** A count of --keep-*: a whole number, else a usage error naming the option. */
function count(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new CliError(`--keep-${name} ${v}: a whole number.\n${USAGE}`, 2);
  return Number(v);
}

/** hangar schedule ...: snapshots taken on a cron, pruned by a restic-like retention. */
export async function schedule(argv: string[], json: boolean): Promise<void> {
  const client = api();
  const [sub = 'ls', ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const items = (rest[0] ? await client.schedules.ofMachine(rest[0]) : await client.schedules.list()).items;
      if (json) return printJson(items);
      if (!items.length) return console.log(`No schedules. Add one: hangar schedule add MACHINE --cron '0 3 * * *' --keep-last 7`);
      for (const s of items) console.log(line(s));
      return;
    }
    case 'add': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          tag: { type: 'string' },
          cron: { type: 'string' },
          tz: { type: 'string' },
          'keep-last': { type: 'string' },
          'keep-hourly': { type: 'string' },
          'keep-daily': { type: 'string' },
          'keep-weekly': { type: 'string' },
          'keep-monthly': { type: 'string' },
          'backup-to': { type: 'string' },
          'backup-keep': { type: 'string' },
        },
      });
      const machine = positionals[0];
      if ((!machine && !values.tag) || (machine && values.tag) || !values.cron) throw new CliError(USAGE, 2);
      const keep: Keep = {};
      for (const r of KEEP_RULES) {
        const n = count(r, values[`keep-${r}`]);
        if (n !== undefined) keep[r] = n;
      }
      const s = await client.schedules.create({
        ...(machine ? { machine } : { tag: values.tag }),
        cron: values.cron,
        ...(values.tz ? { timeZone: values.tz } : {}),
        keep,
        ...(values['backup-to'] ? { backup: { target: values['backup-to'], keep: Number(values['backup-keep'] ?? 3) } } : {}),
      });
      return json ? printJson(s) : console.log(`Added ${line(s)}`);
    }
    case 'rm': {
      if (!rest[0]) throw new CliError(USAGE, 2);
      const s = await client.schedules.remove(rest[0]);
      return json ? printJson(s) : console.log(`Deleted ${s.id} (its snapshots stay).`);
    }
    case 'run': {
      if (!rest[0]) throw new CliError(USAGE, 2);
      const job = await client.schedules.run(rest[0]);
      return json ? printJson(job) : console.log(`Started job ${job.id}: ${job.title}`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}
