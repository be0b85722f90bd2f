// First-load JavaScript per page, after `next build` (Next 16 no longer prints it): the runtime
// chunks every page loads, plus the chunks of the page's layouts and its own, from each page's
// client reference manifest. Sizes raw and gzipped (as served over the wire). Writes
// .next/bundle-report.json and prints a table; `--budget KB` fails when a page's gzipped first
// load is over it.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import zlib from 'node:zlib';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const next = path.join(root, '.next');
const appDir = path.join(next, 'server', 'app');
const budgetArg = process.argv.indexOf('--budget');
const budgetKb = budgetArg > 0 ? Number(process.argv[budgetArg + 1]) : null;

const sizes = new Map();
function sizeOf(rel) {
  if (!sizes.has(rel)) {
    const buf = fs.readFileSync(path.join(next, rel.replace(/^\/?_next\//, '')));
    sizes.set(rel, { raw: buf.length, gzip: zlib.gzipSync(buf, { level: 9 }).length });
  }
  return sizes.get(rel);
}

function manifests(dir) {
  const out = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...manifests(p));
    else if (e.name === 'page_client-reference-manifest.js') out.push(p);
  }
  return out;
}

const build = JSON.parse(fs.readFileSync(path.join(next, 'build-manifest.json'), 'utf8'));
const shared = build.rootMainFiles ?? [];
const pages = [];
for (const file of manifests(appDir)) {
  const ctx = { globalThis: {} };
  ctx.globalThis = ctx;
  vm.runInNewContext(fs.readFileSync(file, 'utf8'), ctx);
  const entries = Object.values(ctx.__RSC_MANIFEST ?? {})[0]?.entryJSFiles ?? {};
  const files = new Set(shared);
  for (const list of Object.values(entries)) for (const f of list) files.add(f);
  const route =
    `/${path
      .relative(appDir, path.dirname(file))
      .split(path.sep)
      .filter((s) => !/^\(.*\)$/.test(s))
      .join('/')}`.replace(/\/$/, '') || '/';
  if (route.startsWith('/_')) continue;
  let raw = 0;
  let gzip = 0;
  for (const f of files) {
    const s = sizeOf(f);
    raw += s.raw;
    gzip += s.gzip;
  }
  pages.push({ route, files: files.size, rawKb: Math.round(raw / 102.4) / 10, gzipKb: Math.round(gzip / 102.4) / 10 });
}
pages.sort((a, b) => a.route.localeCompare(b.route));
const sharedGzip = shared.reduce((a, f) => a + sizeOf(f).gzip, 0);
fs.writeFileSync(path.join(next, 'bundle-report.json'), JSON.stringify({ sharedGzipKb: Math.round(sharedGzip / 102.4) / 10, pages }, null, 2));
console.log(`\nFirst-load JavaScript per page (gzip; shared by all: ${Math.round(sharedGzip / 1024)} KB)`);
for (const p of pages) console.log(`  ${p.route.padEnd(26)} ${String(p.gzipKb).padStart(7)} KB gzip  ${String(p.rawKb).padStart(8)} KB raw  ${p.files} files`);
const over = budgetKb ? pages.filter((p) => p.gzipKb > budgetKb) : [];
if (over.length) {
  console.error(`Over the ${budgetKb} KB budget: ${over.map((p) => `${p.route} ${p.gzipKb} KB`).join(', ')}`);
  process.exit(1);
}
