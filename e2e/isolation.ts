import fs from 'node:fs';
import path from 'node:path';
import { expect, request, type APIRequestContext, type TestInfo } from '@playwright/test';
import { E2E_ADMIN_PASSWORD } from '../playwright.config';

/**
 * Specs run one after another against one server, and later specs expect no machines or snapshots
 * they did not make (an image cannot be deleted while a machine uses it; an empty snapshot tree is
 * shown as such). When a spec file leaves some behind (a failed test, or a missing clean-up), they
 * are removed before the next file's first test, with a warning naming the file. The record of what
 * existed when a file began is kept in the output dir, so it survives the worker restart that
 * follows a failed test.
 */
type Seen = { file: string; machines: string[]; snapshots: string[] };

const recordOf = (info: TestInfo) => path.join(info.project.outputDir, '.isolation.json');

async function adminApi(baseURL: string): Promise<APIRequestContext> {
  const api = await request.newContext({ baseURL, extraHTTPHeaders: { origin: baseURL } });
  const res = await api.post('/api/auth/login', { data: { username: 'admin', password: E2E_ADMIN_PASSWORD } });
  expect(res.ok(), 'the isolation check logs in').toBeTruthy();
  return api;
}

async function inventory(api: APIRequestContext): Promise<{ machines: string[]; snapshots: string[] }> {
  const items = async (url: string) => ((await (await api.get(url)).json()) as { items: Record<string, string>[] }).items;
  return {
    machines: (await items('/api/machines')).map((m) => m.name),
    snapshots: (await items('/api/snapshots')).map((s) => s.id),
  };
}

async function sweep(api: APIRequestContext, before: Seen): Promise<void> {
  const now = await inventory(api);
  const machines = now.machines.filter((n) => !before.machines.includes(n));
  for (const name of machines) await api.delete(`/api/machines/${encodeURIComponent(name)}`);
  await expect
    .poll(async () => (await inventory(api)).machines.filter((n) => machines.includes(n)), { timeout: 120_000, message: 'leftover machines removed' })
    .toEqual([]);
  const snapshots = (await inventory(api)).snapshots.filter((id) => !before.snapshots.includes(id));
  for (const id of snapshots) await api.delete(`/api/snapshots/${id}?cascade=true`);
  if (machines.length || snapshots.length) {
    console.warn(`e2e isolation: ${path.basename(before.file)} left machines [${machines.join(', ')}] and snapshots [${snapshots.join(', ')}]; removed`);
  }
}

/** Before the first test of each spec file: remove what the previous file left, then note what exists. */
export async function isolateSpecFile(info: TestInfo): Promise<void> {
  const file = recordOf(info);
  const before = fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Seen) : null;
  if (before?.file === info.file) return;
  const api = await adminApi(info.project.use.baseURL!);
  try {
    if (before) await sweep(api, before);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ file: info.file, ...(await inventory(api)) } satisfies Seen));
  } finally {
    await api.dispose();
  }
}
