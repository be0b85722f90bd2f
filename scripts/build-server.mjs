// Bundles the server and the CLI with esbuild. Packages stay external (node_modules is there at run
// time, and native addons cannot be bundled); the @/ alias comes from tsconfig.json.
import { readFileSync } from 'node:fs';
import { build } from 'esbuild';

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
// The CLI carries its packages (resolving them from node_modules is most of a cold start), except
// socket.io-client: only the console commands load it (a dynamic import), and its CommonJS parts
// (ws) cannot run from an ESM bundle.
// yaml likewise (its CommonJS build asks for require('process')); only chain files load it. undici too: only a
// pinned or CA-verified https:// server loads it. ws: only `ssh --stdio` loads it.
await build({
  ...common,
  packages: undefined,
  minify: true,
  entryPoints: { cli: 'cli/main.ts' },
  outdir: 'dist',
  external: ['./server.js', 'socket.io-client', 'yaml', 'esbuild', 'undici', 'ws'],
});
// A CommonJS package bundled into the ESM CLI fails only when the command that loads it runs: refuse it here.
if (readFileSync('dist/cli.js', 'utf8').includes('Dynamic require of'))
  throw new Error("dist/cli.js bundles a CommonJS package (esbuild left a require shim): add it to the CLI build's external list");
// The container console holder runs on its own (detached), so it is its own small bundle.
await build({ ...common, entryPoints: { holder: 'server/drivers/shared/holder.ts' }, outdir: 'dist' });
// A user step runs in a process of its own (server/core/steps/step-process.ts): its small entry point.
await build({ ...common, entryPoints: { 'step-runner': 'server/core/steps/step-runner.ts' }, outdir: 'dist' });
