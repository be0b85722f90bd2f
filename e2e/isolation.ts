import fs from 'node:fs';
import path from 'node:path';
import { expect, request, type APIRequestContext, type TestInfo } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config';

/**
 * Specs run one after another against one server, and later specs expect no machines or snapshots
 * they did not make (an image cannot be deleted while a machine uses it; an empty snapshot tree is
 * shown as such). When a spec file leaves some behind (a failed test, or a missing clean-up), they
 * are removed before the next file's first test, with a warning naming the file. Only what was made
 * before that file's last test ended goes: the next file's beforeAll may have made machines of its
 * own already. The record (what existed when a file began, when its last test ended) is kept in the
 * output dir, so it survives the worker restart that follows a failed test.
 */
type Item = { id: string; createdAt: number };
type Seen = { file: string; machines: string[]; snapshots: string[]; endedAt: number };

const recordOf = (info: TestInfo) => path.join(info.project.outputDir, '.isolation.json');

async function adminApi(baseURL: string): Promise<APIRequestContext> {
  const api = await request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL } });
  const res = await api.post('/api/auth/login', { data: { username: 'admin', password: E2E_ADMIN_PASSWORD } });
  expect(res.ok(), 'the isolation check logs in').toBeTruthy();
  return api;
}

async function items(api: APIRequestContext, url: string): Promise<Item[]> {
  return ((await (await api.get(url)).json()) as { items: Item[] }).items;
}

async function inventory(api: APIRequestContext): Promise<{ machines: string[]; snapshots: string[] }> {
  return { machines: (await items(api, '/api/machines')).map((m) => m.id), snapshots: (await items(api, '/api/snapshots')).map((s) => s.id) };
}

/** What exists now that was made after `before` was noted and before its file's last test ended. */
async function leftovers(api: APIRequestContext, url: string, known: string[], endedAt: number): Promise<string[]> {
  return (await items(api, url)).filter((i) => !known.includes(i.id) && i.createdAt <= endedAt).map((i) => i.id);
}

async function sweep(api: APIRequestContext, before: Seen): Promise<void> {
  const machines = await leftovers(api, '/api/machines', before.machines, before.endedAt);
  for (const id of machines) await api.delete(`/api/machines/${id}`);
  await expect
    .poll(async () => (await inventory(api)).machines.filter((n) => machines.includes(n)), { timeout: 120_000, message: 'leftover machines removed' })
    .toEqual([]);
  const snapshots = await leftovers(api, '/api/snapshots', before.snapshots, before.endedAt);
  for (const id of snapshots) await api.delete(`/api/snapshots/${id}?cascade=true`);
  if (machines.length || snapshots.length) {
    console.warn(`e2e isolation: ${path.basename(before.file)} left machines [${machines.join(', ')}] and snapshots [${snapshots.join(', ')}]; removed`);
  }
}

const readRecord = (info: TestInfo) => {
  const file = recordOf(info);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Seen) : null;
};

/** After each test: when its file's last test (so far) ended. */
export function noteTestEnded(info: TestInfo): void {
  const seen = readRecord(info);
  if (seen?.file === info.file) fs.writeFileSync(recordOf(info), JSON.stringify({ ...seen, endedAt: Date.now() } satisfies Seen));
}

/** Before the first test of each spec file: remove what the previous file left, then note what exists. */
export async function isolateSpecFile(info: TestInfo): Promise<void> {
  const file = recordOf(info);
  const before = readRecord(info);
  if (before?.file === info.file) return;
  const api = await adminApi(info.project.use.baseURL!);
  try {
    if (before) await sweep(api, before);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ file: info.file, ...(await inventory(api)), endedAt: Date.now() } satisfies Seen));
  } finally {
    await api.dispose();
  }
}
