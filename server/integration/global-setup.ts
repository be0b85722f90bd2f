import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { clusterPool } from './cluster-pool';
import { AUTH, startRegistry, type RegistryInfo } from './oci-registry';
import { startPostgres } from './postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    postgresUrl: string;
    /** The run's two registries (plain HTTP; TLS + basic auth as AUTH), shared by the files that push and pull images. */
    registries: { http: RegistryInfo; tls: RegistryInfo };
    /** The unix socket of the lane's two-node cluster (cluster-pool.ts, started when a file first asks: shared-cluster.ts). */
    clusterPool: string;
  }
}

/**
 * The servers every file of the integration tier may use, started once per run (per lane) here, so
 * `npm run test:integration` works on its own too: one PostgreSQL server (each file makes its own
 * databases), two registries (each file pushes its own images; files run one at a time in a lane), and
 * the pool of the two-node cluster the cluster files share (its servers start when the first one asks).
 */
export default async function setup(project: TestProject) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-it-registries-'));
  const started = await Promise.allSettled([startPostgres(), startRegistry(path.join(dir, 'http')), startRegistry(path.join(dir, 'tls'), { auth: AUTH })]);
  const [a, b, c] = started;
  if (a.status === 'rejected' || b.status === 'rejected' || c.status === 'rejected') {
    // What did start is stopped: nothing left running when the run cannot begin.
    await Promise.all(started.map((r) => (r.status === 'fulfilled' ? r.value.stop() : undefined)));
    fs.rmSync(dir, { recursive: true, force: true });
    throw [a, b, c].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []))[0];
  }
  const [pg, http, tls] = [a.value, b.value, c.value];
  project.provide('postgresUrl', pg.url);
  const info = ({ stop: _stop, ...r }: typeof http): RegistryInfo => r;
  project.provide('registries', { http: info(http), tls: info(tls) });
  const pool = clusterPool(pg.url);
  await pool.listen();
  project.provide('clusterPool', pool.socket);
  return async () => {
    // The cluster's failure to stop never keeps PostgreSQL and the registries running.
    await pool.stop().catch((err: Error) => console.error(`cluster pool: ${err.message}`));
    try {
      await Promise.all([pg.stop(), http.stop(), tls.stop()]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}
