import type { Namespace, Server } from 'socket.io';
import { createAdapter } from '@socket.io/postgres-adapter';
import pg, { type Pool } from 'pg';
import type { Core } from '@/server/core/hangar';
import type { Revocation } from '@/server/core/auth';
import type { Cluster } from '@/server/core/cluster/cluster';

/** The namespace whose broadcasts reach every node's sockets; consoles answer their own socket and stay local. */
export const SHARED_NSP = '/events';
/** How often a node with browsers on /events tells the others (their machines' figures are sampled while someone looks). */
const AUDIENCE_EVERY_MS = 5_000;
const AUDIENCE_KEEP_MS = 12_000;

/**
 * A cluster (PostgreSQL): /events broadcasts go through @socket.io/postgres-adapter (NOTIFY, and
 * its table for payloads over 8000 bytes), so a job or machine change made on one node reaches
 * browsers connected to any node. Called before the namespace is made; other namespaces keep the
 * in-memory adapter. The adapter has a small pool of its own (one connection LISTENs for good):
 * a burst of events never waits behind the API's queries, nor they behind it. While no other node
 * is there (othersThere), a broadcast stays here (no NOTIFY nobody hears). Returns its close.
 */
export function shareEvents(io: Server, mainPool: Pool, cluster: Pick<Cluster, 'registry'>): () => Promise<void> {
  // A connection that cannot be had within 10 s fails the publish (logged) instead of queueing events for ever.
  const pool = new pg.Pool({ ...mainPool.options, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('connect', (client) => {
    // The connection that LISTENs is checked out for good: a dropped one must not be an uncaught 'error'...
    client.on('error', (err) => console.error(`cluster events: database connection: ${err.message}`));
    // ...nor hold its pool slot for ever (the adapter forgets it and LISTENs on a new one). Only that one
    // has a notification listener; a query's connection is given back by its query.
    client.once('end', () =>
      setImmediate(() => {
        if (client.listenerCount('notification') === 0) return;
        try {
          (client as unknown as { release(destroy: boolean): void }).release(true);
        } catch {
          // already given back
        }
      }),
    );
  });
  pool.on('error', (err) => console.error(`cluster events: database connection: ${err.message}`));
  const shared = createAdapter(pool, { errorHandler: (err) => console.error(`cluster events: ${err.message}`) });
  // The in-memory adapter socket.io was made with (a class: socket.io constructs whatever is set here).
  const local = io.adapter() as unknown as new (nsp: Namespace) => ReturnType<typeof shared>;
  // socket.io calls it with `new`: a function (not an arrow) whose returned object is the adapter.
  function pick(nsp: Namespace) {
    if (nsp.name !== SHARED_NSP) return new local(nsp);
    const adapter = shared(nsp);
    const broadcast = adapter.broadcast.bind(adapter);
    // The adapter publishes (a NOTIFY, or an INSERT and a NOTIFY) and then delivers here; over several pool
    // connections two events could overtake each other, here and on the other nodes. One at a time keeps
    // their order (a job's `running` never lands after its `succeeded`).
    let last: Promise<void> = Promise.resolve();
    adapter.broadcast = (packet, opts) => {
      const shareIt = othersThere(adapter, cluster);
      const sent = last.then(() => broadcast(packet, shareIt ? opts : { ...opts, flags: { ...opts.flags, local: true } }));
      last = sent.catch(() => undefined);
      return sent;
    };
    return adapter;
  }
  io.adapter(pick as unknown as Parameters<Server['adapter']>[0]);
  return () => Promise.race([pool.end(), new Promise<void>((r) => setTimeout(r, 3_000).unref())]);
}

/**
 * Another node may hear what this one publishes: its adapter answered this one's heartbeat lately
 * (socket.io-adapter's own record; unknown: assume so), or the node registry saw another node
 * online. The registry matters to a node just started: its LISTEN is set up after its first
 * heartbeat went out, so the others' answers are missed and their next heartbeat is up to 5 s
 * away; what it published meanwhile (a machine destroyed there) would never reach them.
 */
export function othersThere(adapter: unknown, cluster: Pick<Cluster, 'registry'>): boolean {
  const known = (adapter as { nodesMap?: Map<string, number> }).nodesMap;
  if (!known || known.size > 0) return true;
  return cluster.registry?.list().some((n) => !n.self && n.online) ?? false;
}

type Heard = { machine: { id: string; removed: boolean }; revoke: Revocation; audience: Record<string, never> };

/**
 * What the other nodes must hear besides the browsers' events: a machine that changed there (this
 * node's machine list reads it again), a session or share revoked there (its sockets here close),
 * and that someone here watches (their machines' figures are sampled). Messages between servers
 * (serverSideEmit), never re-sent by the node that hears them.
 */
export function relayAcrossNodes(nsp: Namespace, core: Core): () => void {
  const emit = <K extends keyof Heard>(k: K, v: Heard[K]) => {
    if (othersThere(nsp.adapter, core.cluster)) nsp.serverSideEmit(k, v);
  };
  let audienceUntil = 0;
  const local = core.stats.audience;
  core.stats.audience = () => local() || Date.now() < audienceUntil;
  nsp.on('machine', (m: Heard['machine']) => core.machines.listing.heard(m.id, m.removed));
  nsp.on('revoke', (r: Heard['revoke']) => core.auth.revoked({ ...r, relayed: true }));
  nsp.on('audience', () => (audienceUntil = Date.now() + AUDIENCE_KEEP_MS));
  const offs = [
    core.bus.subscribe('machine:update', (m) => emit('machine', { id: m.id, removed: false })),
    core.bus.subscribe('machine:removed', (m) => emit('machine', { id: m.id, removed: true })),
    core.auth.onRevoke((r) => {
      if (!r.relayed) emit('revoke', r);
    }),
  ];
  const timer = setInterval(() => {
    if (nsp.sockets.size > 0) emit('audience', {});
  }, AUDIENCE_EVERY_MS);
  timer.unref();
  return () => {
    clearInterval(timer);
    core.stats.audience = local;
    offs.forEach((off) => off());
  };
}
