import http from 'node:http';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import { importBusyboxImage } from './busybox-tree';
import { releaseAll, type NodeName, type PoolRequest, type SharedClusterInfo } from './cluster-pool';
import { client } from './harness';
import { jobsThrough } from './node-files';

function ask(req: PoolRequest): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(req);
    const r = http.request({ socketPath: inject('clusterPool'), path: '/', method: 'POST', headers: { 'content-length': Buffer.byteLength(body) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(JSON.parse(text)) : reject(new Error(`cluster pool: ${text}`))));
    });
    r.on('error', reject);
    r.end(body);
  });
}

export interface SharedCluster {
  /** A's and B's URL and data dir (a node started again keeps its port, so its URL too). */
  a: { url: string; dataDir: string };
  b: { url: string; dataDir: string };
  token: string;
  dbUrl: string;
  net: SharedClusterInfo['net'];
  /** Clients of A and of B, made again after a restart. */
  api: ApiClient;
  apiB: ApiClient;
  /** The node stopped (SIGKILL: killed), its data dir kept. */
  stop(node: NodeName, signal?: NodeJS.Signals): Promise<void>;
  /** The node started again on its data dir, listed online by A. */
  start(node: NodeName): Promise<void>;
  /** What the file made goes (machines, snapshots with their copies, images with theirs), both nodes running, none drained. */
  release(): Promise<void>;
}

/**
 * The lane's two-node cluster (cluster-pool.ts), with B started with `envB` (restarted with it when
 * the file before had another). The cluster is shared by the files that use it: each one's
 * afterAll calls `release()`, so the next one starts from nodes that hold nothing.
 */
export async function sharedCluster(envB: Record<string, string> = {}): Promise<SharedCluster> {
  const c = {} as SharedCluster;
  const take = (i: SharedClusterInfo) => {
    Object.assign(c, { a: i.nodes.a, b: i.nodes.b, token: i.token, dbUrl: i.dbUrl, net: i.net });
    c.api = client(i.nodes.a.url, i.token);
    c.apiB = client(i.nodes.b.url, i.token);
  };
  take((await ask({ op: 'ensure', envB })) as SharedClusterInfo);
  c.stop = async (node, signal = 'SIGTERM') => take((await ask({ op: 'stop', node, signal })) as SharedClusterInfo);
  c.start = async (node) => take((await ask({ op: 'start', node })) as SharedClusterInfo);
  c.release = async () => {
    take((await ask({ op: 'ensure', envB })) as SharedClusterInfo);
    await releaseAll(c.api);
  };
  return c;
}

/**
 * The set-up of the files that move machines between nodes: before them, the lane's cluster with
 * the busybox image built on A (its kernel boots the moved VMs) and its root filesystem imported
 * as the image `bb-mv`; after them, the consoles they opened closed and the nodes released.
 * `ready`: given the cluster first; `first`: what the file needs made between the build and the import (a machine to move).
 */
export function moveCluster(o: { consoles: Socket[]; ready: (c: SharedCluster) => void; first?: () => Promise<unknown> }): void {
  let nodes: SharedCluster | undefined;
  beforeAll(async () => {
    nodes = await sharedCluster();
    o.ready(nodes);
    const { done } = jobsThrough(() => nodes!.api);
    await done(await nodes.api.images.build({ kind: 'busybox' }), 300_000);
    await o.first?.();
    await importBusyboxImage(nodes.api, 'bb-mv');
  }, 600_000);
  afterAll(async () => {
    o.consoles.forEach((s) => s.close());
    await nodes?.release();
  }, 300_000);
}
