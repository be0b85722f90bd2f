import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { openDatabase } from '@/db/client';
import { insertMachine } from '@/db/repo/machines';
import type { Machine } from '@/lib/contracts/machines';
import { dataLayout, projectRoot } from '@/server/core/paths';
import { serve } from '@/server/main';
import { percentile, round } from './stats';
import { firstLoadJs, frameDeltas, frameStats } from './ui-page';
import { CONSOLE_BYTES, consoleInBrowser, consoleWithoutBrowser, watchAcks } from './ui-console';

const PASSWORD = 'bench-ui-password';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A data dir with `count` machine records (no VM behind them: hundreds of guests do not fit on this host). */
async function seed(count: number): Promise<{ dataDir: string; ids: string[] }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-ui-'));
  const store = openDatabase({ sqlitePath: dataLayout(dataDir).db, migrationsDir: path.join(projectRoot(), 'db', 'migrations') });
  await store.migrate();
  const now = Date.now();
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `mch_benchui${String(i).padStart(10, '0')}`;
    ids.push(id);
    await insertMachine(store, {
      id,
      name: `ui-${String(i).padStart(4, '0')}`,
      driver: i % 3 === 0 ? 'nspawn' : 'qemu',
      image: i % 3 === 0 ? 'debian-12' : 'busybox',
      state: 'running',
      stateReason: null,
      cpus: 1,
      memoryMib: 256,
      diskGib: 2,
      ports: [],
      ownerId: null,
      tags: i % 4 === 0 ? ['web', 'bench'] : ['bench'],
      createdAt: now - i * 1000,
      updatedAt: now,
    });
  }
  await store.close();
  return { dataDir, ids };
}

async function startServer(dataDir: string) {
  process.env.HANGAR_ADMIN_PASSWORD = PASSWORD;
  const srv = await serve({ host: '127.0.0.1', port: 0, dataDir, ui: true, dev: false, adminPassword: PASSWORD });
  // Records without processes: the monitor would mark them stopped. The bench drives their state.
  srv.core.machines.stopMonitor();
  srv.core.stats.stop();
  return srv;
}

/**
 * The machines page with `count` machines, each changing state once a second (spread over the
 * second) and sending figures every 2 s: frame times against the same page idle. The state
 * changes go the way real ones do (the machine service's patch, the event bus, /events); the
 * figures are published on the bus as the stats sampler would.
 */
async function listUnderUpdates(browser: Browser, count: number, withFirstLoad: boolean) {
  const { dataDir, ids } = await seed(count);
  const srv = await startServer(dataDir);
  let flipper: NodeJS.Timeout | null = null;
  let statsTimer: NodeJS.Timeout | null = null;
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await ctx.newPage();
    const login = await page.request.post(`${srv.url}/api/auth/login`, { data: { username: 'admin', password: PASSWORD }, headers: { origin: srv.url } });
    if (!login.ok()) throw new Error(`login: ${login.status()}`);

    // First load of the machines page, nothing cached.
    const load = withFirstLoad ? await firstLoadJs(page, `${srv.url}/machines`) : (await page.goto(`${srv.url}/machines`), null);
    await page.getByText(`${count} machines`, { exact: true }).waitFor({ timeout: 60_000 });
    await page.locator('[data-testid="machine-row"]').first().waitFor({ timeout: 60_000 });

    const cycle: Exclude<Machine['state'], 'unknown'>[] = ['running', 'paused', 'running', 'stopping', 'stopped', 'starting'];
    let tick = 0;
    let updates = 0;
    let flipping = false;
    // Every machine changes state once a second, spread over the second.
    const flip = () => {
      tick++;
      ids.forEach((id, i) => {
        setTimeout(
          () => {
            if (!flipping) return;
            void srv.core.machines.patch(id, { state: cycle[(tick + i) % cycle.length] });
            updates++;
          },
          (i * 1000) / count,
        );
      });
    };
    const publishStats = () => {
      const t = Date.now();
      srv.core.bus.publish('stats:machines', {
        t,
        items: ids.map((id, i) => ({
          id,
          t,
          cpuPct: (i * 7 + t / 100) % 100,
          memBytes: (100 + ((i * 13 + t / 50) % 150)) * 2 ** 20,
          memLimitBytes: 256 * 2 ** 20,
          guestMemBytes: null,
          diskReadBps: 0,
          diskWriteBps: 1000,
          diskUsedBytes: 2 ** 20,
          netRxBps: null,
          netTxBps: null,
        })),
      });
    };
    const stop = () => {
      flipping = false;
      if (flipper) clearInterval(flipper);
      if (statsTimer) clearInterval(statsTimer);
      flipper = statsTimer = null;
    };
    // Idle and busy in turns, three times: the host is shared, and a slow spell should hit both alike.
    await page.waitForTimeout(1000);
    const idle: { deltas: number[]; long: number }[] = [];
    const busy: { deltas: number[]; long: number }[] = [];
    let busyMs = 0;
    for (let round = 0; round < 3; round++) {
      idle.push(await frameDeltas(page, 2500));
      flipping = true;
      flip();
      publishStats();
      flipper = setInterval(flip, 1000);
      statsTimer = setInterval(publishStats, 2000);
      const t0 = performance.now();
      await page.waitForTimeout(1000);
      busy.push(await frameDeltas(page, 3500));
      busyMs += performance.now() - t0;
      stop();
      await page.waitForTimeout(500);
    }
    const rows = page.locator('[data-testid="machine-row"]');
    const statesOnScreen = await rows.evaluateAll((r) => new Set(r.map((x) => x.getAttribute('data-state'))).size);
    const rowsRendered = await rows.count();
    return { idle: frameStats(idle), busy: frameStats(busy), updatesPerS: round(updates / (busyMs / 1000), 0), statesOnScreen, rowsRendered, load };
  } finally {
    if (flipper) clearInterval(flipper);
    if (statsTimer) clearInterval(statsTimer);
    await ctx.close();
    await srv.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Console output through the whole path (pty, socket.io, xterm in the browser) against the same
 * output read by a Node socket.io client. The host is shared and its load comes and goes: the Node
 * client runs before, between and after the browser runs, and medians are compared. The renderer
 * the page picks itself three times, then WebGL once (it is slow here: SwiftShader).
 */
async function consoleThroughput(browser: Browser) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-ui-'));
  const srv = await startServer(dataDir);
  try {
    await srv.core.settings.update({ consoleHostShell: true });
    const acks = watchAcks(srv.http.io.of('/console'));
    // Warm-up (code paths compiled, the shell's files cached), not measured.
    await consoleWithoutBrowser(srv.url, PASSWORD, 2_000_000);
    const node: number[] = [];
    const page: { s: number; renderer: 'webgl' | 'dom' }[] = [];
    for (let i = 0; i < 3; i++) {
      node.push(await consoleWithoutBrowser(srv.url, PASSWORD));
      page.push(await consoleInBrowser(browser, srv.url, PASSWORD, acks, false));
    }
    node.push(await consoleWithoutBrowser(srv.url, PASSWORD));
    const webgl = await consoleInBrowser(browser, srv.url, PASSWORD, acks, true);
    return {
      nodeS: percentile(node, 50),
      node,
      pageS: percentile(
        page.map((p) => p.s),
        50,
      ),
      page,
      renderer: page[0].renderer,
      webgl,
    };
  } finally {
    await srv.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const mbS = (s: number) => round(CONSOLE_BYTES / 1e6 / s, 1);

/**
 * The dashboard in Debian's Chromium: the machines list with 200 and with 1,000 machines, each
 * changing state every second and sending figures every 2 s (frame times against the same page
 * idle), the machines page's first-load JavaScript, and console output through the whole path
 * against the same output read by a Node client, in the renderer the page picks and in WebGL.
 */
export async function run() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  try {
    const l200 = await listUnderUpdates(browser, 200, true);
    const l1000 = await listUnderUpdates(browser, 1000, false);
    const con = await consoleThroughput(browser);
    // Written by `npm run build` (scripts/bundle-report.mjs); a build from before it has none.
    const reportFile = path.join(projectRoot(), '.next', 'bundle-report.json');
    const report = fs.existsSync(reportFile) ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pages: { route: string; gzipKb: number }[] }) : null;
    const built = report?.pages.find((p) => p.route === '/machines')?.gzipKb ?? null;
    const list = (l: typeof l200, n: number) => ({
      [`list_${n}_update_frame_ms_p95`]: l.busy.p95,
      [`list_${n}_idle_frame_ms_p95`]: l.idle.p95,
      [`list_${n}_update_frame_ms_p50`]: l.busy.p50,
      [`list_${n}_update_frame_ms_p99`]: l.busy.p99,
      [`list_${n}_update_frame_ms_max`]: l.busy.max,
      [`list_${n}_update_long_tasks`]: l.busy.longTasks,
      [`list_${n}_update_vs_idle_p95`]: round(l.busy.p95 / l.idle.p95, 2),
      [`list_${n}_updates_per_s`]: l.updatesPerS,
      [`list_${n}_states_on_screen`]: l.statesOnScreen,
      [`list_${n}_rows_rendered`]: l.rowsRendered,
    });
    return {
      ...list(l200, 200),
      ...list(l1000, 1000),
      machines_page_first_load_kb: l200.load?.transferKb ?? null,
      machines_page_first_load_decoded_kb: l200.load?.decodedKb ?? null,
      machines_page_first_load_js_files: l200.load?.files ?? null,
      machines_page_build_report_gzip_kb: built,
      console_renderer: con.renderer,
      console_render_mb_s: mbS(con.pageS),
      console_render_s: round(con.pageS, 2),
      console_render_runs_mb_s: con.page.map((p) => mbS(p.s)),
      console_node_client_mb_s: mbS(con.nodeS),
      console_node_client_runs_mb_s: con.node.map(mbS),
      console_render_vs_node_client: round(con.nodeS / con.pageS, 2),
      console_render_webgl_mb_s: mbS(con.webgl.s),
      console_render_webgl_vs_node_client: round(con.nodeS / con.webgl.s, 2),
      console_webgl_drawn_by: con.webgl.gl,
      note:
        `200 and 1,000 machine records, each changing state every second (that many machine:update events/s over ` +
        `/events) and a stats tick of all of them every 2 s; frame times are requestAnimationFrame deltas in ` +
        `Debian Chromium (headless, no GPU) over 10.5 s, against 7.5 s of the same page idle (three turns of each). First load: ` +
        `JavaScript transferred on a cold visit of /machines (200 machines). Console: ${CONSOLE_BYTES / 1e6} MB of text ` +
        `lines from the host shell through pty, socket.io (acked) and xterm, until the page acks the message with the ` +
        `last line (xterm has parsed it; it is painted at the next frame), in the renderer the page picks ` +
        `(${con.renderer}: WebGL only where a GPU draws it; median of 3) and in WebGL (SwiftShader here; once), against ` +
        `the median of 4 Node client runs around them.`,
    };
  } finally {
    await browser.close();
  }
}
