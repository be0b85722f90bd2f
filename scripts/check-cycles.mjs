// Fails when modules import each other in a cycle (type-only imports count: a cycle of types is
// still two modules that cannot be understood, or tested, apart). Imports are read with the
// TypeScript compiler's own scanner (ts.preProcessFile), relative and `@/` ones resolved to files.
//   node scripts/check-cycles.mjs [DIR...]   (default: the server's layers, lib, db, cli, components and app)
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const dirs = process.argv.slice(2).length ? process.argv.slice(2) : ['server', 'lib', 'db', 'cli', 'components', 'app'];

const files = [];
const walk = (d) => {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) {
      if (e.name !== 'node_modules' && e.name !== 'migrations') walk(p);
    } else if (/\.tsx?$/.test(e.name) && !/\.d\.ts$/.test(e.name)) files.push(p);
  }
};
for (const d of dirs) walk(path.join(root, d));

/** The file an import names, or null for a package. */
function resolve(from, spec) {
  let base;
  if (spec.startsWith('@/')) base = path.join(root, spec.slice(2));
  else if (spec.startsWith('.')) base = path.resolve(path.dirname(from), spec);
  else return null;
  for (const c of [base, `${base}.ts`, `${base}.tsx`, path.join(base, 'index.ts')]) if (fs.existsSync(c) && fs.statSync(c).isFile()) return c;
  return null;
}

const graph = new Map();
for (const f of files) {
  const { importedFiles } = ts.preProcessFile(fs.readFileSync(f, 'utf8'), true, true);
  graph.set(f, [...new Set(importedFiles.map((i) => resolve(f, i.fileName)).filter((x) => x && x !== f))]);
}

// Tarjan's strongly connected components: every component of more than one module is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const on = new Set();
const cycles = [];
function strong(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  on.add(v);
  for (const w of graph.get(v) ?? []) {
    if (!graph.has(w)) continue;
    if (!idx.has(w)) {
      strong(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do {
      w = stack.pop();
      on.delete(w);
      comp.push(w);
    } while (w !== v);
    if (comp.length > 1) cycles.push(comp);
  }
}
for (const v of graph.keys()) if (!idx.has(v)) strong(v);

const rel = (f) => path.relative(root, f);
if (cycles.length) {
  for (const c of cycles) {
    const set = new Set(c);
    console.error(`import cycle among ${c.length} modules:`);
    for (const f of c.sort())
      console.error(
        `  ${rel(f)} -> ${graph
          .get(f)
          .filter((g) => set.has(g))
          .map(rel)
          .join(', ')}`,
      );
  }
  process.exit(1);
}
console.log(`${files.length} modules, no import cycles`);
