// npm run bench -- NAME: runs one benchmark; its last line of output is one JSON object of figures.
export {};
const benches: Record<string, () => Promise<{ run: () => Promise<Record<string, unknown>> }>> = {
  console: () => import('./console'),
  startup: () => import('./startup'),
  'qemu-boot': () => import('./qemu-boot'),
  snapshots: () => import('./snapshots'),
  containers: () => import('./containers'),
  steps: () => import('./steps'),
  'api-load': () => import('./api-load'),
  ui: () => import('./ui'),
  images: () => import('./images'),
  metrics: () => import('./metrics'),
  backups: () => import('./backups'),
  tls: () => import('./tls'),
  tunnel: () => import('./tunnel'),
  beyond: () => import('./beyond'),
  display: () => import('./display'),
  diff: () => import('./diff'),
  cluster: () => import('./cluster'),
  spawn: () => import('./spawn'),
};

const name = process.argv[2];
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- NAME   (NAME: ${Object.keys(benches).join(', ')})`);
  process.exit(2);
}
const figures = await (await benches[name]()).run();
console.log(JSON.stringify({ bench: name, ...figures }));
process.exit(0);
