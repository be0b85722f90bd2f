import fs from 'node:fs';

/**
 * The clock of schedules and snapshots. Integration tests run the server as a process and move
 * its time without waiting: HANGAR_TEST_CLOCK_FILE names a file holding milliseconds added to
 * the wall clock, read on each call (a missing or empty file adds nothing).
 */
export function serverClock(env: NodeJS.ProcessEnv = process.env): () => number {
  const file = env.HANGAR_TEST_CLOCK_FILE;
  if (!file) return Date.now;
  return () => {
    let skew = 0;
    try {
      skew = Number(fs.readFileSync(file, 'utf8').trim()) || 0;
    } catch {
      // no file yet: no skew
    }
    return Date.now() + skew;
  };
}
