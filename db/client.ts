import path from 'node:path';
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { drizzle as drizzleSqlite } from 'drizzle-orm/better-sqlite3';
import { migrate as migrateSqlite } from 'drizzle-orm/better-sqlite3/migrator';
import { drizzle as drizzlePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import * as pgSchema from './schema/pg';
import * as sqliteSchema from './schema/sqlite';

export type Dialect = 'sqlite' | 'postgres';
export type Tables = typeof pgSchema;
/**
 * Repository code is written once, against the PostgreSQL types. The SQLite tables have
 * the same names, columns and TypeScript types (db/schema.test.ts checks it), and every
 * query is built from the real table objects of the open dialect, so the SQL and the
 * value mapping are the SQLite ones at run time. Only the static type is shared.
 */
export type Db = NodePgDatabase<Tables>;

export interface Store {
  dialect: Dialect;
  db: Db;
  t: Tables;
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Where the SQLite file is, or the PostgreSQL URL without its password. */
  location: string;
  /** PostgreSQL's connection pool (cluster code that needs a client of its own). */
  pool?: pg.Pool;
  /**
   * The cluster node this server is: its new machines and snapshots are its own, and the passes over
   * rows (re-attach, recovery, standbys, schedules) see only its own (repo/own.ts). Unset on one node.
   */
  node?: { id: string; founder: boolean };
}

export interface OpenOptions {
  /** postgres://... selects PostgreSQL; otherwise SQLite at `sqlitePath`. */
  url?: string;
  sqlitePath: string;
  migrationsDir: string;
}

export function openDatabase(opts: OpenOptions): Store {
  if (opts.url && /^postgres(ql)?:\/\//.test(opts.url)) return openPostgres(opts.url, path.join(opts.migrationsDir, 'pg'));
  return openSqlite(opts.sqlitePath, path.join(opts.migrationsDir, 'sqlite'));
}

function openSqlite(file: string, migrationsFolder: string): Store {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new Database(file);
  // WAL lets readers (page loads) proceed while a job writes its log.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const db = drizzleSqlite(sqlite, { schema: sqliteSchema });
  return {
    dialect: 'sqlite',
    db: db as unknown as Db,
    t: sqliteSchema as unknown as Tables,
    location: file,
    async migrate() {
      migrateSqlite(db, { migrationsFolder });
    },
    async close() {
      sqlite.close();
    },
  };
}

/** The advisory lock key migrations hold ('HANG'). */
const MIGRATION_LOCK = 0x48414e47;

function openPostgres(url: string, migrationsFolder: string): Store {
  const pool = new pg.Pool({ connectionString: url, max: 12 });
  const db = drizzlePg(pool, { schema: pgSchema });
  const shown = new URL(url);
  shown.password = '';
  return {
    dialect: 'postgres',
    db,
    t: pgSchema,
    location: shown.toString(),
    pool,
    // Nodes of a cluster may start together: one migrates while the others wait on the lock.
    async migrate() {
      const lock = await pool.connect();
      try {
        await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migratePg(db, { migrationsFolder });
      } finally {
        await lock.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
        lock.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
