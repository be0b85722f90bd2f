import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { ClusterNode } from '@/lib/contracts/nodes';
import { adminToken, client, removeDataDir, type RunningServer, startServer, until } from './harness';

/**
 * Step 1 of the cluster plan (nodes, join tokens, heartbeat): two real servers, A and B, each
 * with its own data dir and port, on one database of the integration tier's PostgreSQL. B joins
 * with a token made on A; B is killed and shown offline, restarted and shown online again.
 */
const DB = 'hangar_cluster_join';
let dbUrl = '';
let a: RunningServer | undefined;
let b: RunningServer | undefined;
let api: ApiClient;
let token = '';

async function admin(sql: string) {
  const url = new URL(inject('postgresUrl'));
  url.pathname = '/postgres';
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const startB = (args: string[] = [], dataDir?: string) =>
  startServer({ env: { DATABASE_URL: dbUrl }, args: ['--host', '127.0.0.1', '--node-name', 'b', ...args], dataDir, ownDataDir: true });

async function nodeB(): Promise<ClusterNode | undefined> {
  return (await api.nodes.list()).items.find((n) => n.name === 'b');
}

function join(body: Record<string, unknown>) {
  return fetch(`${a!.url}/api/cluster/join`, { method: 'POST', headers: { 'content-type': 'application/json', origin: a!.url }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  await admin(`DROP DATABASE IF EXISTS ${DB}`);
  await admin(`CREATE DATABASE ${DB}`);
  const url = new URL(inject('postgresUrl'));
  url.pathname = `/${DB}`;
  dbUrl = url.toString();
  a = await startServer({ env: { DATABASE_URL: dbUrl }, args: ['--node-name', 'a'] });
  token = await adminToken(a.url);
  api = client(a.url, token);
}, 60_000);

afterAll(async () => {
  await b?.stop();
  await a?.stop();
  for (const s of [a, b]) if (s && !process.env.HANGAR_KEEP_TEST_DATA) removeDataDir(s.dataDir);
  await admin(`DROP DATABASE IF EXISTS ${DB}`).catch(() => undefined);
});

describe('cluster join (two nodes, one PostgreSQL)', () => {
  it('A founded the cluster: it is the one node, and /health says cluster', async () => {
    const { items } = await api.nodes.list();
    expect(items.map((n) => [n.name, n.self, n.online])).toEqual([['a', true, true]]);
    const health = await (await fetch(`${a!.url}/api/health`)).json();
    expect(health.cluster).toEqual({ enabled: true, node: 'a' });
  });

  it("B joins with a token; A's running job is not failed by B's start; B is listed with its capabilities", async () => {
    const job = await api.jobs.demo({ seconds: 60, steps: 60 });
    await until(async () => (await api.jobs.get(job.id)).state === 'running', 'the demo job running on A');
    const made = await api.nodes.createToken({ ttlSeconds: 600 });
    expect(made.token).toMatch(/^hgj_/);
    expect(made.command).toContain(`--cluster-join ${a!.url} --token ${made.token}`);
    b = await startB(['--cluster-join', a!.url, '--token', made.token]);
    const onB = await until(async () => ((await nodeB())?.online ? nodeB() : null), 'node b listed online on A');
    expect(onB.internalUrl).toBe(b.url);
    expect(onB.self).toBe(false);
    // B's host probe runs a few seconds after its start; its next heartbeat carries the capabilities.
    const probed = await until(async () => ((await nodeB())?.capabilities.length ? nodeB() : null), "b's capabilities", 90_000, 500);
    expect(probed.cpus).toBeGreaterThan(0);
    // Its heartbeats carry its use (the Nodes page's bars): memory and the disk of its data dir.
    const used = await until(async () => ((await nodeB())?.usage ? nodeB() : null), "b's usage", 30_000, 500);
    expect(used.usage!.memTotalBytes).toBeGreaterThan(0);
    expect(used.usage!.diskTotalBytes).toBeGreaterThan(0);
    const j = await api.jobs.get(job.id);
    expect(j.state, j.error ?? '').toBe('running');
    await api.jobs.cancel(job.id);

    // The same token again: refused, whoever asks.
    const body = {
      token: made.token,
      nodeId: 'nod_aaaaaaaaaaaaaaaaaaaa',
      name: 'c',
      internalUrl: 'http://127.0.0.1:9',
      version: onB.version,
      publicKey: 'x'.repeat(60),
    };
    const reused = await join(body);
    expect(reused.status).toBe(409);
    expect((await reused.json()).error.message).toMatch(/unknown, already used or expired/);
  }, 150_000);

  it('an expired token and another version are refused with 409', async () => {
    const short = await api.nodes.createToken({ ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1500));
    const version = (await (await fetch(`${a!.url}/api/health`)).json()).version as string;
    const body = { nodeId: 'nod_bbbbbbbbbbbbbbbbbbbb', name: 'c', internalUrl: 'http://127.0.0.1:9', publicKey: 'x'.repeat(60) };
    const expired = await join({ ...body, token: short.token, version });
    expect(expired.status).toBe(409);
    const fresh = await api.nodes.createToken({});
    const other = await join({ ...body, token: fresh.token, version: '0.0.0-other' });
    expect(other.status).toBe(409);
    expect((await other.json()).error.message).toBe(
      `node c runs 0.0.0-other, this cluster ${version}: every node must run the same version (stop all, upgrade, start)`,
    );
    // The version check came first: that token is still good, listed as open (the expired one is not), then revoked.
    expect((await api.nodes.tokens()).items.map((t) => t.id)).toContain(fresh.id);
    expect((await api.nodes.tokens()).items.map((t) => t.id)).not.toContain(short.id);
    await api.nodes.revokeToken(fresh.id);
    expect((await api.nodes.tokens()).items.map((t) => t.id)).not.toContain(fresh.id);
  });

  it("an internal route refuses a user's admin token and an unsigned call (401)", async () => {
    const cases: Record<string, string>[] = [
      { authorization: `Bearer ${token}` },
      {},
      { 'x-hangar-node': 'nod_aaaaaaaaaaaaaaaaaaaa', 'x-hangar-signature': 'AAAA' },
    ];
    for (const headers of cases) {
      const res = await fetch(`${b!.url}/api/internal/ping?challenge=${'c'.repeat(32)}`, { headers });
      expect(res.status).toBe(401);
    }
  });

  it('B killed with SIGKILL is shown offline, and online again after a restart', async () => {
    await b!.stop('SIGKILL');
    const off = await until(async () => ((await nodeB())?.online === false ? nodeB() : null), 'node b offline', 60_000, 500);
    expect(off.heartbeatAgeMs).toBeGreaterThanOrEqual(10_000);
    // Removing it while it owns nothing and is offline would work; drain and undrain are kept in the row.
    expect((await api.nodes.drain('b')).state).toBe('draining');
    b = await startB([], b!.dataDir);
    await until(async () => ((await nodeB())?.online ? true : null), 'node b online again', 60_000, 500);
    expect((await api.nodes.undrain('b')).state).toBe('active');
    // An online node cannot be removed; A cannot remove itself.
    await expect(api.nodes.remove('b')).rejects.toThrow(/online/);
    await expect(api.nodes.remove('a')).rejects.toThrow(/node you are talking to/);
  }, 150_000);
});
