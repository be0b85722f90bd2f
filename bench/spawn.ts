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
  const viaDirect = await measure(direct);
  const viaHelper = await measure((a) => runCommand(a));
  const viaDirect2 = await measure(direct);
  const viaHelper2 = await measure((a) => runCommand(a));
  const rss = process.memoryUsage().rss;
  void ballast.length;
  const best = (a: number, b: number) => Math.min(a, b);
  return {
    rss_mb: round(rss / 2 ** 20, 0),
    direct_stall_p99_ms: best(viaDirect.stall_p99_ms, viaDirect2.stall_p99_ms),
    direct_stall_max_ms: best(viaDirect.stall_max_ms, viaDirect2.stall_max_ms),
    helper_stall_p99_ms: best(viaHelper.stall_p99_ms, viaHelper2.stall_p99_ms),
    helper_stall_max_ms: best(viaHelper.stall_max_ms, viaHelper2.stall_max_ms),
    stall_p99_vs_direct: round(best(viaHelper.stall_p99_ms, viaHelper2.stall_p99_ms) / best(viaDirect.stall_p99_ms, viaDirect2.stall_p99_ms), 2),
    direct_run_p50_ms: best(viaDirect.run_p50_ms, viaDirect2.run_p50_ms),
    helper_run_p50_ms: best(viaHelper.run_p50_ms, viaHelper2.run_p50_ms),
    direct_runs_per_s: Math.max(viaDirect.runs_per_s, viaDirect2.runs_per_s),
    helper_runs_per_s: Math.max(viaHelper.runs_per_s, viaHelper2.runs_per_s),
    runs: { direct: [viaDirect, viaDirect2], helper: [viaHelper, viaHelper2] },
    note:
      '`true` run 200 times, 4 at a time, from a process holding 200 MB of live objects: by run() (the spawn helper starts it) and by ' +
      "spawning from the process itself (run()'s way before, the baseline), twice each, interleaved; best of two. stall: the event " +
      "loop's delay (monitorEventLoopDelay, 1 ms resolution) over the runs; run_p50: one command's time from the call to its result.",
  };
}
