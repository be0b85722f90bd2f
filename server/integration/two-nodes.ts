import type { ApiClient } from '@/lib/api-client';
import { adminToken, client, removeDataDir, startServer, until, type RunningServer } from './harness';

export interface TwoNodes {
  /** The founder (the web UI too, when asked). */
  a: RunningServer;
  /** Joined with a token made on A. */
  b: RunningServer;
  /** An admin's API token (the database is shared: good on both). */
  token: string;
  api: ApiClient;
  stop(): Promise<void>;
}

/**
 * A two-node cluster on one PostgreSQL database: A founds it, B joins with a token from A (the
 * join a person makes with `hangar up --cluster-join`). Resolves once A lists B online with the
 * drivers its host probe found. The e2e cluster spec and `npm run bench -- cluster` use it;
 * cluster-join.int.test.ts goes through the join step by step instead.
 */
export async function startTwoNodes(databaseUrl: string, opts: { ui?: boolean; envB?: Record<string, string> } = {}): Promise<TwoNodes> {
  const a = await startServer({ env: { DATABASE_URL: databaseUrl }, args: ['--node-name', 'a'], ui: opts.ui });
  let b: RunningServer | undefined;
  const stop = async () => {
    await b?.stop();
    await a.stop();
    for (const s of [a, b]) if (s) removeDataDir(s.dataDir);
  };
  try {
    const token = await adminToken(a.url);
    const api = client(a.url, token);
    const join = (await api.nodes.createToken({})).token;
    b = await startServer({
      env: { DATABASE_URL: databaseUrl, ...opts.envB },
      args: ['--host', '127.0.0.1', '--node-name', 'b', '--cluster-join', a.url, '--token', join],
      ownDataDir: true,
    });
    await until(
      async () => (await api.nodes.list()).items.find((n) => n.name === 'b' && n.online && n.drivers.length),
      'node b online with its drivers',
      90_000,
      500,
    );
    return { a, b, token, api, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
