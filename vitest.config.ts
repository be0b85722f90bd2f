import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

/**
 * Integration files run in a second vitest process beside the others (scripts/test-integration.sh). The
 * first lane keeps the files of the Debian image (debian.int.test.ts builds it, the others copy it: it
 * runs first, FIRST below). What both lanes touch on the host is kept apart by name: podman images are named by
 * the Hangar image (each file imports names of its own), a NAT machine's rules by its subnet (debian.int
 * checks its own). Each lane runs one file at a time, with its own PostgreSQL, registries and two-node
 * cluster (global-setup.ts; the cluster files share it: shared-cluster.ts, B in a network namespace).
 * A new file goes in the first lane unless listed here. Balanced by a full run's file times (2026-12-06,
 * a slow host): 1730 s against 1575 s, before the Debian build got about 300 s shorter (debian.int 889 s
 * there), cluster-move.int (154 s) came here to share the cluster, and steps.int and backups.int (219 s)
 * went there. Again (2026-12-06, 824 tests): 1445 s of files against 1257 s, so backups.int (50 s),
 * oci-podman.int (20 s) and oci-archive.int (12 s), which need no Debian image, came back here. Again (2026-12-07,
 * after the first lane's files were cut by 128 s): 1297 s against 1455 s, so disks-archive.int (67 s) went there.
 * One file of either lane: `npx vitest run FILE`.
 */
export const SECOND_LANE = [
  'api',
  'authz',
  'backups',
  'cli',
  'cluster-join',
  'cluster-move',
  'cluster-move-images',
  'cluster-replica',
  'cluster-xnode',
  'consoles',
  'dashboard',
  'db',
  'diff',
  'disks',
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
  'oci-archive',
  'oci-nspawn-files',
  'oci-podman',
  'oci-steps',
  'qmp',
  'restart',
  'schedules',
  'security',
  'shares',
  'snapshots',
  'sockets',
  'sso',
  'timeline',
  'tls',
  'tools',
  'undo',
  'volumes',
].map((n) => `server/integration/${n}.int.test.ts`);

/**
 * Files run before the others (vitest's own order is by the last run's times, else by file size): debian.int
 * builds the Debian images that the other files of its lane copy from the test tier's cache.
 */
const FIRST = ['server/integration/debian.int.test.ts'];

class FirstFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const first = (f: TestSpecification) => FIRST.some((n) => f.moduleId.endsWith(n));
    return [...sorted.filter(first), ...sorted.filter((f) => !first(f))];
  }
}

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
    sequence: { sequencer: FirstFilesFirst },
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
