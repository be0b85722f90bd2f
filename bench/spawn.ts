import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { run as runCommand } from '@/server/drivers/exec';
import { percentile, round } from './stats';

const RUNS = 200;
const IN_FLIGHT = 4;
/** Live objects the process holds while it runs commands, as a busy server does (its heap, its page tables). */
const HEAP_MB = 200;

/** The old way, the baseline: spawn from this process and wait for the child to close. */
function direct(argv: string[]): Promise<void> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child.stdout.resume();
    child.stderr.resume();
    child.on('close', () => resolve());
    child.on('error', () => resolve());
  });
}

/** RUNS commands, IN_FLIGHT at a time, while the event loop's delay is sampled every millisecond: its stalls and the commands' times. */
async function measure(start: (argv: string[]) => Promise<unknown>) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const times: number[] = [];
  let next = 0;
  h.enable();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next++ < RUNS) {
        const s = performance.now();
        await start(['true']);
        times.push(performance.now() - s);
      }
    }),
  );
  const wall = performance.now() - t0;
  h.disable();
  const ms = (ns: number) => round(ns / 1e6, 2);
  return {
    stall_p99_ms: ms(h.percentile(99)),
    stall_max_ms: ms(h.max),
    run_p50_ms: round(percentile(times, 50), 2),
    runs_per_s: round((RUNS / wall) * 1000, 0),
  };
}

/**
 * The server's event loop while host commands run: `true` run 200 times, 4 at a time, by run()
 * (started by the spawn helper, a process of its own) and, as the baseline in the same process,
 * by spawning from this process as run() did before. The process holds 200 MB of live objects
 * first: starting a process from Node holds its loop until the child exec'd, longer the bigger the
 * caller. Stalls: monitorEventLoopDelay at 1 ms resolution, over the runs.
 */
export async function run() {
  const ballast: number[][] = [];
  for (let i = 0; i < HEAP_MB * 16; i++) ballast.push(Array.from({ length: 8192 }, (_, j) => j));
  await runCommand(['true']); // the helper forked, as in a server that has run a command already
  await measure((a) => runCommand(a)); // warm-up
  const direct1 = await measure(direct);
  const helper1 = await measure((a) => runCommand(a));
  const direct2 = await measure(direct);
  const helper2 = await measure((a) => runCommand(a));
  const rss = process.memoryUsage().rss;
  void ballast.length;
  type Figures = Awaited<ReturnType<typeof measure>>;
  /** The better of a way's two runs: the lower time, the higher rate. */
  const best = (a: Figures, b: Figures) => ({
    stall_p99_ms: Math.min(a.stall_p99_ms, b.stall_p99_ms),
    stall_max_ms: Math.min(a.stall_max_ms, b.stall_max_ms),
    run_p50_ms: Math.min(a.run_p50_ms, b.run_p50_ms),
    runs_per_s: Math.max(a.runs_per_s, b.runs_per_s),
  });
  const d = best(direct1, direct2);
  const h = best(helper1, helper2);
  return {
    rss_mb: round(rss / 2 ** 20, 0),
    direct_stall_p99_ms: d.stall_p99_ms,
    direct_stall_max_ms: d.stall_max_ms,
    helper_stall_p99_ms: h.stall_p99_ms,
    helper_stall_max_ms: h.stall_max_ms,
    stall_p99_vs_direct: round(h.stall_p99_ms / d.stall_p99_ms, 2),
    direct_run_p50_ms: d.run_p50_ms,
    helper_run_p50_ms: h.run_p50_ms,
    direct_runs_per_s: d.runs_per_s,
    helper_runs_per_s: h.runs_per_s,
    runs: { direct: [direct1, direct2], helper: [helper1, helper2] },
    note:
      '`true` run 200 times, 4 at a time, from a process holding 200 MB of live objects: by run() (the spawn helper starts it) and by ' +
      "spawning from the process itself (run()'s way before, the baseline), twice each, interleaved; best of two. stall: the event " +
      "loop's delay (monitorEventLoopDelay, 1 ms resolution) over the runs; run_p50: one command's time from the call to its result.",
  };
}
