import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('.', import.meta.url));

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
        test: {
          name: 'integration',
          include: ['server/integration/**/*.int.test.ts'],
          globalSetup: ['server/integration/global-setup.ts'],
          // Every API answer checked against the documented operation (the response validator).
          setupFiles: ['server/integration/validate-responses.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
