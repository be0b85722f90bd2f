import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import type { MoveResult } from '@/lib/contracts/moves';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

const USAGE = 'Usage: hangar move NAME --to NODE';

/**
 * `hangar move NAME --to NODE`: the machine goes to another node of the cluster (a running VM live,
 * its guest running on; a running container frozen, copied and started there; a stopped machine by
 * copying its files). The job's progress and log follow;
 * the last line says how long the guest was stopped.
 */
export async function move(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { to: { type: 'string' } } });
  const [name] = positionals;
  if (!name || !values.to || positionals.length > 1) throw new CliError(USAGE, 2);
  const cfg = loadConfig();
  const client = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const done = await followJob(client, await client.machines.move(name, { node: values.to }), json);
  const r = done.result as MoveResult;
  if (json) return printJson(r);
  const stop =
    r.downtimeMs === null
      ? 'moved stopped'
      : r.live
        ? `live, the guest stopped ${r.downtimeMs} ms at the switch`
        : `restarted there, stopped ${r.downtimeMs} ms from its freeze here to its start there`;
  console.log(`Moved ${name} from node ${r.from} to node ${r.to} in ${r.totalS.toFixed(1)} s (${stop}).`);
}
