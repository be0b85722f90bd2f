import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { ApiClient } from '@/lib/api-client';
import { isFinished, jobStates } from '@/lib/contracts/jobs';
import { adminToken, client, jobDone, removeDataDir, startServer, until, type RunningServer } from './harness';
import { makeNodeNet, type NodeNet } from './netns';
import { adminSql } from './postgres';

/** What a test file is told of the lane's cluster: plain data, the servers stay with the pool. */
export interface SharedClusterInfo {
  dbUrl: string;
  /** An admin's API token (the database is shared: good on both nodes). */
  token: string;
  net: Pick<NodeNet, 'name' | 'hostIp' | 'nodeIp' | 'enter'>;
  nodes: Record<NodeName, { url: string; dataDir: string }>;
}
export type NodeName = 'a' | 'b';

/** One request to the pool: `ensure` starts what is not running (B with that environment), `stop` and `start` one node. */
export type PoolRequest =
  { op: 'ensure'; envB: Record<string, string> } | { op: 'stop'; node: NodeName; signal: NodeJS.Signals } | { op: 'start'; node: NodeName };

const DB = 'hangar_cluster_shared';
const sameEnv = (x: Record<string, string>, y: Record<string, string>) =>
  Object.keys(x).length === Object.keys(y).length && Object.entries(x).every(([k, v]) => y[k] === v);

/**
 * The lane's two-node cluster (issue 21: "start the new servers once per test run and share them
 * between test files"), kept by the vitest process (global-setup.ts) so that it outlives each file's
 * worker. Nothing starts until a file asks: A founds the cluster on a database of its own, B joins
 * with a token from A, in a network namespace of its own (netns.ts), as two-nodes.ts does for the
 * e2e spec and the bench. A file asks over a unix socket (shared-cluster.ts): B's environment of
 * that file (B restarted with it when it differs), a node killed or stopped and started again on its
 * data dir. Each file cleans what it made before the next one comes (SharedCluster.release).
 */
export function clusterPool(postgresUrl: string) {
  let net: NodeNet | undefined;
  let dbUrl = '';
  let token = '';
  let envB: Record<string, string> = {};
  const servers: Partial<Record<NodeName, RunningServer>> = {};
  const running = (n: NodeName) => {
    const s = servers[n];
    return !!s && s.proc.exitCode === null && s.proc.signalCode === null;
  };
  const argsOf = (n: NodeName) => ['--host', n === 'a' ? net!.hostIp : net!.nodeIp, '--insecure-http', '--node-name', n];

  const start = async (n: NodeName, extra: string[] = []): Promise<void> => {
    const before = servers[n];
    // A node started again keeps its port, as a real one does: the other node's view of its URL stays true.
    const port = before ? ['--port', new URL(before.url).port] : [];
    const s = await startServer({
      env: { DATABASE_URL: dbUrl, ...(n === 'b' ? envB : {}) },
      args: [...argsOf(n), ...port, ...extra],
      enter: n === 'b' ? net!.enter : undefined,
      dataDir: before?.dataDir,
      ownDataDir: false,
    });
    servers[n] = s;
    if (!before && n === 'a') token = await adminToken(s.url);
    // Listed online by A (B: with the drivers its host probe found), whichever node came back.
    const api = client(servers.a!.url, token);
    await until(
      async () => (await api.nodes.list()).items.find((x) => x.name === n && x.online && x.internalUrl === s.url && (n === 'a' || x.drivers.length)),
      `node ${n} online`,
      90_000,
      250,
    );
  };
  const stop = async (n: NodeName, signal: NodeJS.Signals = 'SIGTERM') => {
    if (running(n)) await servers[n]!.stop(signal);
  };

  const ensure = async (want: Record<string, string>) => {
    if (!net) {
      await adminSql(postgresUrl, `DROP DATABASE IF EXISTS ${DB}`);
      await adminSql(postgresUrl, `CREATE DATABASE ${DB}`);
      const url = new URL(postgresUrl);
      url.pathname = `/${DB}`;
      dbUrl = url.toString();
      net = await makeNodeNet();
    }
    if (!running('a')) await start('a');
    if (running('b') && !sameEnv(envB, want)) await stop('b');
    envB = want;
    if (!running('b')) {
      const join = servers.b ? [] : ['--cluster-join', servers.a!.url, '--token', (await client(servers.a!.url, token).nodes.createToken({})).token];
      await start('b', join);
    }
  };

  const info = (): SharedClusterInfo => ({
    dbUrl,
    token,
    net: { name: net!.name, hostIp: net!.hostIp, nodeIp: net!.nodeIp, enter: net!.enter },
    nodes: {
      a: { url: servers.a!.url, dataDir: servers.a!.dataDir },
      b: { url: servers.b!.url, dataDir: servers.b!.dataDir },
    },
  });

  const handle = async (req: PoolRequest): Promise<unknown> => {
    if (req.op === 'ensure') await ensure(req.envB ?? {});
    else if (!net) throw new Error('no cluster yet: ensure first');
    else if (req.op === 'stop') await stop(req.node, req.signal);
    else if (!running(req.node)) await start(req.node);
    return info();
  };

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-it-pool-'));
  const socket = path.join(dir, 'pool.sock');
  // One request at a time: a file's requests come one after another anyway.
  let queue: Promise<unknown> = Promise.resolve();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const job = queue.then(() => handle(JSON.parse(body) as PoolRequest));
      queue = job.catch(() => undefined);
      job.then(
        (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(r)),
        (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.stack ?? String(err)),
      );
    });
  });

  return {
    socket,
    listen: () => new Promise<void>((resolve) => server.listen(socket, resolve)),
    async stop() {
      await new Promise((resolve) => server.close(resolve));
      // A file that failed before its release leaves no machine running past the run.
      if (running('a'))
        await releaseAll(client(servers.a!.url, token)).catch((err: Error) => console.error(`cluster pool: release at the end: ${err.message}`));
      await stop('b');
      await stop('a');
      if (!process.env.HANGAR_KEEP_TEST_DATA) for (const s of Object.values(servers)) removeDataDir(s.dataDir);
      await net?.remove();
      if (net) await adminSql(postgresUrl, `DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Each item of a paged list removed: the first page again until it is empty (at most 20 passes, a
 * quarter second apart: a removal that keeps its item fails). An item already gone (404) is done:
 * a node's list can name a machine another node destroyed a moment ago, until that node's event arrives.
 */
async function removeAll<T>(what: string, list: () => Promise<{ items: T[] }>, remove: (item: T) => Promise<unknown>): Promise<void> {
  const gone = (e: { status?: number }) => (e.status === 404 ? undefined : Promise.reject(e));
  for (let pass = 0; pass < 20; pass++) {
    const { items } = await list();
    if (!items.length) return;
    for (const item of items) await remove(item).catch(gone);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`release: ${what} are still listed after 20 passes`);
}

/** Every machine destroyed, every step cache node, snapshot and image deleted (their copies on every node with them), no node drained. */
export async function releaseAll(api: ApiClient): Promise<void> {
  // What the file left running (a move's clean-up on the other node, say) ends first: it may hold what goes next.
  await jobsEnded(api);
  await removeAll(
    'machines',
    () => api.machines.list(),
    async (m) => {
      const j = await jobDone(api, await api.machines.destroy(m.id), 300_000);
      if (j.state !== 'succeeded') throw new Error(`release: destroying ${m.name} failed: ${j.error}`);
    },
  );
  // The step cache's nodes (with the snapshots they keep): a node's removal takes its descendants along.
  await removeAll(
    'step cache nodes',
    () => api.steps.nodes(),
    (n) => api.steps.invalidate(n.key),
  );
  await removeAll(
    'snapshots',
    () => api.snapshots.list(),
    (s) => api.snapshots.remove(s.id, true),
  );
  await removeAll(
    'images',
    () => api.images.list(),
    (i) => api.images.remove(i.id),
  );
  for (const n of (await api.nodes.list()).items) if (n.state === 'draining') await api.nodes.undrain(n.name);
  // The jobs the deletes started (a copy's removal on the other node) end before the next file.
  await jobsEnded(api);
}

/** No job of the cluster still queued or running. */
async function jobsEnded(api: ApiClient): Promise<void> {
  const unfinished = async () =>
    (await Promise.all(jobStates.filter((s) => !isFinished(s)).map((state) => api.jobs.list({ state, limit: 1 })))).some((p) => p.items.length);
  await until(async () => ((await unfinished()) ? null : true), 'jobs finished', 120_000, 250);
}
