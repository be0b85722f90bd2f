import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';
import { seconds } from './fork-links';

const USAGE = `Usage: hangar recordings [ls MACHINE | markers MACHINE ID | share MACHINE ID [--expires 24h] [--label L] | links MACHINE | revoke LINK]`;

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 16);

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
    case 'share': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { expires: { type: 'string' }, label: { type: 'string' } } });
      if (positionals.length !== 2) throw new CliError(USAGE, 2);
      const r = await api().shares.createForRecording(positionals[0], positionals[1], {
        expiresInSeconds: seconds('expires', values.expires),
        label: values.label,
      });
      const url = `${loadConfig().url}${r.path}`;
      if (json) return printJson({ ...r, url });
      console.log(`Made ${r.share.id}: read-only, this recording only, expires ${when(r.share.expiresAt)} (revoke: hangar recordings revoke ${r.share.id})`);
      console.log(`Link (shown once): ${url}`);
      return;
    }
    case 'links': {
      if (rest.length !== 1) throw new CliError(USAGE, 2);
      const items = (await api().shares.list(rest[0])).items.filter((s) => s.recordingId);
      if (json) return printJson(items);
      if (!items.length) return console.log(`No recording links of ${rest[0]}.`);
      for (const s of items) console.log(`${s.id}  ${s.state.padEnd(7)}  ${s.recordingId}  expires ${when(s.expiresAt)}${s.label ? `  "${s.label}"` : ''}`);
      return;
    }
    case 'revoke': {
      if (rest.length !== 1) throw new CliError(USAGE, 2);
      const s = await api().shares.revoke(rest[0]);
      return json ? printJson(s) : console.log(`Revoked ${s.id}: it opens nothing now.`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}
