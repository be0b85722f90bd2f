import { getTableColumns, getTableName, type Table } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import * as pg from './schema/pg';
import * as sqlite from './schema/sqlite';

function shape(schema: Record<string, unknown>) {
  const out: Record<string, Record<string, { notNull: boolean; primary: boolean }>> = {};
  for (const t of Object.values(schema) as Table[]) {
    out[getTableName(t)] = Object.fromEntries(Object.values(getTableColumns(t)).map((c) => [c.name, { notNull: c.notNull, primary: c.primary }]));
  }
  return out;
}

describe('schemas', () => {
  it('SQLite and PostgreSQL have the same tables and columns', () => {
    expect(shape(sqlite)).toEqual(shape(pg));
  });
  it('has the tables the design names', () => {
    expect(Object.keys(shape(sqlite)).sort()).toEqual(
      [
        'api_tokens',
        'audit_events',
        'backup_targets',
        'images',
        'job_logs',
        'jobs',
        'machine_grants',
        'machines',
        'sessions',
        'settings',
        'share_links',
        'snapshots',
        'step_nodes',
        'users',
        'webhooks',
        'webhook_deliveries',
        'schedules',
        'sign_in_providers',
        'ssh_keys',
        'fork_links',
        'fork_link_forks',
        'isos',
        'nodes',
        'join_tokens',
        'snapshot_copies',
        'image_copies',
        'registries',
      ].sort(),
    );
  });
});
