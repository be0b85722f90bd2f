import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { openDatabase, type Store } from './client';

/**
 * Unit tests: a fresh, migrated SQLite database for each test, in a temp dir of its own that goes
 * afterwards. `use` gets each new store (`let store: Store; withTempStore('auth', (s) => (store = s));`).
 */
export function withTempStore(name: string, use: (store: Store) => void): void {
  let dir = '';
  let store: Store | undefined;
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `hangar-${name}-`));
    store = openDatabase({ sqlitePath: path.join(dir, 'db.sqlite'), migrationsDir: path.resolve('db/migrations') });
    await store.migrate();
    use(store);
  });
  afterEach(async () => {
    await store?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
