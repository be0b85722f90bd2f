import { createApiClient, type ApiClient } from '@/lib/api-client';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = 'Usage: hangar recordings [ls MACHINE | markers MACHINE ID]';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const clock = (s: number) => `${Math.floor(s / 60)}:${(s % 60).toFixed(1).padStart(4, '0')}`;

/** hangar recordings ...: a machine's recorded console sessions, and the timeline of one (its checkpoints, restores and forks). */
export async function recordings(argv: string[], json: boolean): Promise<void> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'ls': {
      if (rest.length !== 1) throw new CliError(USAGE, 2);
      const items = (await api().machines.recordings(rest[0])).items;
      if (json) return printJson(items);
      if (!items.length) return console.log(`No recordings of ${rest[0]}.`);
      for (const r of items)
        console.log(
          `${r.id}  ${new Date(r.startedAt).toISOString().slice(0, 19).replace('T', ' ')}  ${r.durationS.toFixed(1)} s${r.active ? '  (recording)' : ''}`,
        );
      return;
    }
    case 'markers': {
      if (rest.length !== 2) throw new CliError(USAGE, 2);
      const items = (await api().machines.recordingMarkers(rest[0], rest[1])).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('No markers: no checkpoint, restore or fork happened while this was recorded.');
      for (const m of items) console.log(`${clock(m.t).padStart(8)}  ${m.kind.padEnd(10)} ${m.snapshotId ?? '-'.padEnd(24)}  ${m.label}`);
      return;
    }
    default:
      throw new CliError(USAGE, 2);
  }
}
