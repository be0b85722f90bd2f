import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '@/db/client';
import { insertMachine } from '@/db/repo/machines';
import { dataLayout, projectRoot } from '@/server/core/paths';

/**
 * A fresh data dir whose SQLite holds `count` machine records named PREFIX-0..N (stopped, a third
 * nspawn and the rest QEMU, no process behind them), written before a server starts on it: what
 * the list and scrape benches measure against.
 */
export async function seededDataDir(count: number, prefix: string): Promise<string> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `hangar-bench-${prefix}-`));
  const store = openDatabase({ sqlitePath: dataLayout(dataDir).db, migrationsDir: path.join(projectRoot(), 'db', 'migrations') });
  await store.migrate();
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    await insertMachine(store, {
      id: `mch_bench${String(i).padStart(12, '0')}`,
      name: `${prefix}-${i}`,
      driver: i % 3 === 0 ? 'nspawn' : 'qemu',
      image: 'busybox',
      state: 'stopped',
      stateReason: null,
      cpus: 1,
      memoryMib: 256,
      diskGib: 2,
      ports: [],
      ownerId: null,
      createdAt: now - i * 1000,
      updatedAt: now,
    });
  }
  await store.close();
  return dataDir;
}
