import { hostUsageSchema, machineStatsHistorySchema, machineStatsListSchema } from '@/lib/contracts/stats';
import { STATS_INTERVAL_MS } from '@/server/core/stats';
import { defineRoute, refParams } from './route';

/** Samples per machine for the list's sparklines: the last minute. */
const SPARK_SAMPLES = 30;

/** Live figures: the host overview, sparklines for the list, graphs for one machine. */
export const statsRoutes = [
  defineRoute({
    method: 'get',
    path: '/stats/host',
    name: 'getHostUsage',
    tag: 'stats',
    summary: "The host: capacity, use, Hangar's disk use, machines by state",
    access: 'viewer',
    response: hostUsageSchema,
    handler: async ({ core, principal }) => core.usage.usage(await core.machines.list(principal)),
  }),
  defineRoute({
    method: 'get',
    path: '/stats/machines',
    name: 'listMachineStats',
    tag: 'stats',
    summary: 'The last minute of samples of every machine the caller sees (sparklines)',
    access: 'member',
    response: machineStatsListSchema,
    handler: async ({ core, principal }) => {
      const seen = await core.grants.visible(principal, await core.machines.list(principal));
      return {
        intervalS: STATS_INTERVAL_MS / 1000,
        items: seen.map((m) => ({ id: m.id, samples: core.stats.historyOf(m.id, SPARK_SAMPLES) })).filter((x) => x.samples.length > 0),
      };
    },
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/stats',
    name: 'getMachineStats',
    tag: 'stats',
    summary: "The last six minutes of a machine's samples (CPU, memory, disk, network)",
    access: 'viewer',
    machineGrant: 'viewer',
    params: refParams,
    response: machineStatsHistorySchema,
    handler: async ({ core, machine: m }) => {
      return { id: m.id, intervalS: STATS_INTERVAL_MS / 1000, samples: core.stats.historyOf(m.id) };
    },
  }),
];
