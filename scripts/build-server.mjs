// Bundles the server and the CLI with esbuild. Packages stay external (node_modules is there at run
// time, and native addons cannot be bundled); the @/ alias comes from tsconfig.json.
import { copyFileSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

/** zod's `locales` namespace with English alone (see the CLI build below). */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (a) =>
      a.importer.includes(`${path.sep}zod${path.sep}`) ? { path: path.join(path.dirname(a.importer), '../locales/en.js'), namespace: 'zod-en' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (a) => ({
      contents: `export { default as en } from ${JSON.stringify(a.path)};`,
      resolveDir: path.dirname(a.path),
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
  tsconfig: 'tsconfig.json',
};

await build({ ...common, entryPoints: { server: 'server/entry.ts' }, outdir: 'dist' });
// run()'s spawn helper is forked from next to the bundle (plain JavaScript, nothing to build).
copyFileSync('server/drivers/spawn-helper.mjs', 'dist/spawn-helper.mjs');
// The CLI carries its packages (resolving them from node_modules is most of a cold start), except
// socket.io-client: only the console commands load it (a dynamic import), and its CommonJS parts
// (ws) cannot run from an ESM bundle. undici too: only a pinned or CA-verified https:// server loads it.
// ws: only `ssh --stdio` loads it.
// yaml is bundled from its ESM build (the browser one: the same code, warnings on console.warn instead of
// process.emitWarning): its CommonJS build asks for require('process'), and loading it from node_modules, some
// forty files, cost a run about 40 ms of CPU (the machine contracts check user-data with it).
// zod without its locales: the CLI never changes zod's language (English is kept), and the other forty-odd
// made up half of its code, compiled at every start.
// Split: each command is a chunk of its own under dist/cli/ (main.ts imports it when that command runs), so a
// start-up reads, compiles and evaluates only what its command needs. Old chunks go first (their names are hashes).
rmSync('dist/cli', { recursive: true, force: true });
await build({
  ...common,
  packages: undefined,
  minify: true,
  splitting: true,
  chunkNames: 'cli/[name]-[hash]',
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  external: ['./server.js', 'socket.io-client', 'esbuild', 'undici', 'ws'],
  alias: { yaml: './node_modules/yaml/browser/index.js' },
  plugins: [zodEnglishOnly],
});
// A CommonJS package bundled into the ESM CLI fails only when the command that loads it runs: refuse it here.
for (const f of ['dist/cli.js', ...readdirSync('dist/cli').map((n) => `dist/cli/${n}`)])
  if (f.endsWith('.js') && readFileSync(f, 'utf8').includes('Dynamic require of'))
    throw new Error(`${f} bundles a CommonJS package (esbuild left a require shim): add it to the CLI build's external list`);
// The container console holder runs on its own (detached), so it is its own small bundle.
await build({ ...common, entryPoints: { holder: 'server/drivers/shared/holder.ts' }, outdir: 'dist' });
// A user step runs in a process of its own (server/core/steps/step-process.ts): its small entry point.
await build({ ...common, entryPoints: { 'step-runner': 'server/core/steps/step-runner.ts' }, outdir: 'dist' });
