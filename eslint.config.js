import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/**
 * The layers' arrows, enforced: transport (server/api, server/sockets, app, components, cli) ->
 * core -> drivers/db; anything may import lib/. Each folder gets one no-restricted-imports entry
 * (a later entry for the same files replaces an earlier one, so each lists everything it forbids);
 * type-only imports are forbidden alike. server/layers.test.ts proves every rule fires.
 */
const noShell = { name: 'node:child_process', importNames: ['exec', 'execSync'], message: 'Use server/drivers/exec.ts (argv arrays, no shell).' };
/**
 * Imports of `folder` from files under `from`: by the @/ alias, or by a relative path that climbs
 * out of `from` into it (`../../core/x` from server/drivers/qemu means server/core).
 */
function forbid(from, folders, message) {
  const esc = (p) => p.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  return folders.map((folder) => {
    const a = from.split('/');
    const b = folder.split('/');
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    const below = b.slice(i).join('/');
    return { regex: `^(@/${esc(folder)}|(\\.\\./)+${esc(below)})(/|$)`, message };
  });
}
const rule = (...patterns) => ({ 'no-restricted-imports': ['error', { paths: [noShell], patterns: patterns.flat() }] });

const DRIVERS = ['qemu', 'nspawn', 'podman', 'fake'];
const driverDirs = (except = []) => DRIVERS.filter((d) => !except.includes(d)).map((d) => `server/drivers/${d}`);

const browserOnly = [{ group: ['node:*', 'fs', 'path', 'child_process'], message: 'lib/ is shared with the browser: no Node-only imports.' }];
const noServer = (from) => forbid(from, ['server', 'db'], 'The browser side talks to the server over HTTP: a type it needs belongs in lib/contracts.');
const transportFree = [{ group: ['hono', 'hono/*', '@hono/*', 'socket.io', 'next', 'next/*'], message: 'server/core is transport-free.' }];
const coreArrows = forbid('server/core', ['server/api', 'server/sockets', 'server/transport'], 'server/core is below the transports: it never imports them.');
const coreIntoDrivers = forbid(
  'server/core',
  [...driverDirs(), 'server/drivers/images'],
  "Core reaches drivers through the registry createCore is given, never one driver's files.",
);
const coreRegistry = forbid(
  'server/core',
  ['server/drivers/registry'],
  'Only createCore (server/core/hangar.ts) picks the real driver registry; everything else is given it.',
);
const driverArrows = forbid(
  'server/drivers',
  ['server/core', 'server/api', 'server/sockets', 'server/transport', 'db'],
  'Drivers are the bottom layer: they import nothing from core, transports or the database.',
);
const oneDriver = (self) =>
  forbid(`server/drivers/${self}`, driverDirs([self]), 'Drivers do not import each other: shared code goes in server/drivers/shared.');

export default tseslint.config(
  { ignores: ['node_modules/', '.next/', 'dist/', 'next-env.d.ts', 'test-results/', 'playwright-report/', 'db/migrations/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { files: ['**/*.{js,mjs}', 'scripts/**'], languageOptions: { globals: globals.node } },
  {
    files: ['**/*.{ts,tsx}'],
    plugins: { 'react-hooks': reactHooks },
    rules: {
      'react-hooks/rules-of-hooks': 'error',
      'react-hooks/exhaustive-deps': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/ban-ts-comment': 'error',
      ...rule(),
    },
  },
  {
    files: ['lib/**/*.ts'],
    rules: rule(browserOnly, noServer('lib'), forbid('lib', ['components', 'app', 'cli'], 'lib/ is imported by every layer and imports none.')),
  },
  { files: ['components/**/*.{ts,tsx}'], rules: rule(noServer('components')) },
  { files: ['app/**/*.{ts,tsx}'], rules: rule(noServer('app')) },
  { files: ['cli/**/*.ts'], rules: rule(forbid('cli', ['server/drivers', 'server/core', 'db'], 'The CLI talks to the server over HTTP (lib/api-client).')) },
  { files: ['db/**/*.ts'], rules: rule(forbid('db', ['server'], 'db/ is below core: it returns rows and contract types, and knows no service.')) },
  {
    files: ['server/sockets/**/*.ts'],
    rules: rule(forbid('server/sockets', ['server/api', 'server/drivers', 'db'], 'Sockets share helpers with the API through server/transport.')),
  },
  { files: ['server/core/**/*.ts'], rules: rule(transportFree, coreArrows, coreIntoDrivers, coreRegistry) },
  { files: ['server/core/hangar.ts'], rules: rule(transportFree, coreArrows, coreIntoDrivers) },
  // Unit tests of core run on the fake driver.
  {
    files: ['server/core/**/*.test.ts', 'server/core/testing/**/*.ts'],
    rules: rule(
      transportFree,
      coreArrows,
      forbid('server/core', [...driverDirs(['fake']), 'server/drivers/images'], "Core's tests use the fake driver."),
      coreRegistry,
    ),
  },
  {
    files: ['server/drivers/**/*.ts'],
    rules: rule(driverArrows, forbid('server/drivers', driverDirs(), 'Shared driver code does not reach into one driver: it is given what it needs.')),
  },
  {
    files: ['server/drivers/registry.ts'],
    rules: rule(driverArrows, forbid('server/drivers', driverDirs(['qemu', 'nspawn', 'podman']), 'The real registry has the real drivers.')),
  },
  ...['qemu', 'nspawn', 'podman', 'fake'].map((d) => ({ files: [`server/drivers/${d}/**/*.ts`], rules: rule(driverArrows, oneDriver(d)) })),
);
