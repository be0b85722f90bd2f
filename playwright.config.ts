import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';

const port = Number(process.env.E2E_PORT || 3917);
/** The server's data dir; set in the environment here so the test workers (started later, with it) know it too. */
export const E2E_DATA = (process.env.E2E_DATA ||= path.join(os.tmpdir(), `hangar-e2e-${process.pid}`));
/** The server's test clock skew (server/core/clock.ts), beside its data dir: a spec writes it and takes it back. */
export const E2E_CLOCK_FILE = `${E2E_DATA}.clock`;
export const E2E_ADMIN_PASSWORD = 'e2e-admin-password';

export default defineConfig({
  testDir: 'e2e',
  // The run's registry, shared by the specs that pull images.
  globalSetup: './e2e/global-setup.ts',
  // Its own folder: Playwright empties outputDir at start, and test-results/ holds the vitest reports.
  outputDir: 'test-results/playwright',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: process.env.E2E_JSON || 'test-results/e2e.json' }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: 'retain-on-failure',
    launchOptions: {
      // Debian's Chromium: never a downloaded browser.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: {
    command: `node dist/server.js --port ${port} --data ${E2E_DATA}`,
    url: `http://127.0.0.1:${port}/api/health`,
    reuseExistingServer: false,
    timeout: 60_000,
    // The Debian packages downloaded by the integration tier (or an earlier run) are reused, and so is the debian-12
    // image it built (debian.int builds it for real every run): the e2e specs test the pages, not debootstrap again.
    env: {
      HANGAR_ADMIN_PASSWORD: E2E_ADMIN_PASSWORD,
      HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache'),
      HANGAR_TEST_IMAGE_CACHE: path.join(os.tmpdir(), 'hangar-test-cache', 'built-images'),
      // Milliseconds a spec adds to the server's clock of schedules and snapshots (clock.ts), so it need not wait them out.
      HANGAR_TEST_CLOCK_FILE: E2E_CLOCK_FILE,
    },
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
