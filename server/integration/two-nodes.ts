import type { ApiClient } from '@/lib/api-client';
import { adminToken, client, removeDataDir, startServer, until, type RunningServer } from './harness';
import { makeNodeNet, type NodeNet } from './netns';

export interface TwoNodes {
  /** The founder (the web UI too, when asked), on the host's end of B's veth pair. */
  a: RunningServer;
  /** Joined with a token made on A, in a network namespace of its own. */
  b: RunningServer;
  /** An admin's API token (the database is shared: good on both). */
  token: string;
  api: ApiClient;
  /** B's namespace and the two addresses. */
  net: NodeNet;
  /** A node's server flags and namespace, for a test that starts one again on its data dir. */
  serverOf(node: 'a' | 'b'): { args: string[]; enter?: string[] };
  stop(): Promise<void>;
}

/**
 * A two-node cluster on one PostgreSQL database: A founds it, B joins with a token from A (the
 * join a person makes with `hangar up --cluster-join`). B runs in a network namespace of its own
 * (netns.ts), as on another host: its loopback, its port forwards and its NAT network are not A's.
 * Both listen on the veth pair's addresses with plain HTTP (`--insecure-http`: a private link, as
 * a cluster's internal network). Resolves once A lists B online with the drivers its host probe
 * found. The e2e cluster spec and `npm run bench -- cluster` use it; cluster-join.int.test.ts goes
 * through the join step by step instead.
 */
export async function startTwoNodes(databaseUrl: string, opts: { ui?: boolean; envB?: Record<string, string> } = {}): Promise<TwoNodes> {
  const net = await makeNodeNet();
  const serverOf = (node: 'a' | 'b') =>
    node === 'a'
      ? { args: ['--host', net.hostIp, '--insecure-http', '--node-name', 'a'] }
      : { args: ['--host', net.nodeIp, '--insecure-http', '--node-name', 'b'], enter: net.enter };
  let a: RunningServer | undefined;
  let b: RunningServer | undefined;
  const stop = async () => {
    await b?.stop();
    await a?.stop();
    for (const s of [a, b]) if (s) removeDataDir(s.dataDir);
    await net.remove();
  };
  try {
    a = await startServer({ env: { DATABASE_URL: databaseUrl }, args: serverOf('a').args, ui: opts.ui });
    const token = await adminToken(a.url);
    const api = client(a.url, token);
    const join = (await api.nodes.createToken({})).token;
    b = await startServer({
      env: { DATABASE_URL: databaseUrl, ...opts.envB },
      args: [...serverOf('b').args, '--cluster-join', a.url, '--token', join],
      enter: net.enter,
      ownDataDir: true,
    });
    await until(
      async () => (await api.nodes.list()).items.find((n) => n.name === 'b' && n.online && n.drivers.length),
      'node b online with its drivers',
      90_000,
      500,
    );
    return { a, b, token, api, net, serverOf, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
