import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Integration files run in a second vitest process beside the others (scripts/test-integration.sh): no
 * Debian image (debian.int.test.ts builds it, the others copy it: they must come after), no podman (the
 * imports of one image share a podman repository), no NAT network on the host (debian.int counts the host's
 * NAT rules: cluster-move's and adopt's containers use it). Each lane still runs one file at a time, with its
 * own PostgreSQL (global-setup.ts); the cluster files' second node lives in a network namespace of its own.
 * A new file goes in the first lane unless listed here. Balanced by a full run's file times: 1250 s against
 * 924 s before the cluster, api, db, move-tls and volumes files (174 s) moved here; debian.int alone took 473 s
 * and disk-images.int 314 s beside the other lane. One file of either lane: `npx vitest run FILE` (both projects).
 */
export const SECOND_LANE = [
  'api',
  'authz',
  'backups',
  'cli',
  'cluster-join',
  'cluster-replica',
  'cluster-xnode',
  'consoles',
  'dashboard',
  'db',
  'diff',
  'disks',
  'disks-archive',
  'display',
  'files',
  'fork-links',
  'fuzz',
  'hot',
  'image-server',
  'images',
  'iso',
  'limits',
  'machines',
  'move-tls',
  'oci',
  'oci-nspawn-files',
  'oci-steps',
  'qmp',
  'restart',
  'schedules',
  'security',
  'shares',
  'snapshots',
  'sockets',
  'sso',
  'steps',
  'timeline',
  'tls',
  'tools',
  'undo',
  'volumes',
].map((n) => `server/integration/${n}.int.test.ts`);

const integration = {
  globalSetup: ['server/integration/global-setup.ts'],
  // Every API answer checked against the documented operation (the response validator).
  setupFiles: ['server/integration/validate-responses.ts'],
  environment: 'node' as const,
  testTimeout: 60_000,
  hookTimeout: 120_000,
  fileParallelism: false,
};

export default defineConfig({
  resolve: { alias: { '@': root } },
  test: {
    projects: [
      {
        resolve: { alias: { '@': root } },
        test: {
          name: 'unit',
          include: ['{lib,server,db,cli,components}/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', 'node_modules/**'],
          environment: 'node',
          // Some unit tests run real tools (ssh-keygen, scrypt, file chunking): on a busy 2-core host 5 s is not enough.
          testTimeout: 30_000,
        },
      },
      {
        resolve: { alias: { '@': root } },
        test: { name: 'integration', include: ['server/integration/**/*.int.test.ts'], exclude: [...SECOND_LANE, 'node_modules/**'], ...integration },
      },
      {
        resolve: { alias: { '@': root } },
        test: { name: 'integration-2', include: SECOND_LANE, ...integration },
      },
    ],
  },
});
