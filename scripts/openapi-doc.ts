// Writes the OpenAPI document exactly as the server publishes it (/api/openapi.json), from the
// server's own route table built in-process (no database, no listening socket), to the file
// named by the first argument; `./hangar test` lints it with Redocly (scripts/lint-openapi.sh).
import fs from 'node:fs';
import path from 'node:path';
import { createApi } from '@/server/api/app';
import type { Core } from '@/server/core/hangar';
import { projectRoot } from '@/server/core/paths';

const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/openapi-doc.ts OUT.json');
  process.exit(2);
}
const version = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')).version as string;
// The document route reads nothing of the core but its version.
const { app } = createApi({ version } as Core);
const res = await app.request('/api/openapi.json');
if (!res.ok) throw new Error(`GET /api/openapi.json answered ${res.status}: ${await res.text()}`);
fs.writeFileSync(out, JSON.stringify(await res.json(), null, 2));
