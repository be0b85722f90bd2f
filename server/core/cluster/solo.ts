import type { Cluster } from './cluster';

/** One node (SQLite, or PostgreSQL with no cluster wanted): everything is local, nothing is signed or verified. */
export function soloCluster(): Cluster {
  return {
    enabled: false,
    self: { id: 'local', name: 'local' },
    founder: true,
    ownsNothingYet: false,
    registry: null,
    join: null,
    isLocal: () => true,
    nodes: async () => [],
    sign: () => {
      throw new Error('a single node signs no calls to other nodes');
    },
    verify: async () => null,
    requireOnline: () => {
      throw new Error('a single node forwards nothing');
    },
    pong: () => {
      throw new Error('a single node answers no pings');
    },
    online: async () => undefined,
    close: async () => undefined,
  };
}
