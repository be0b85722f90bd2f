import { runArgs, runLight } from './run-light';

/**
 * hangar run [-it] [--rm] [--driver D] [--name N] IMAGE [-- CMD...], and hangar run CHAIN: a
 * command in a fresh application container in one request when it can be (runLight), else the
 * whole path (run-full.ts: the pull, the driver's description, -it consoles, VMs, chains).
 */
export async function runCmd(argv: string[]): Promise<number> {
  const sep = argv.indexOf('--');
  const head = sep >= 0 ? argv.slice(0, sep) : argv;
  if (head.includes('+') || head.includes('-f') || head.includes('--file')) return (await import('./run-full')).runChain(argv);
  const o = runArgs(argv);
  if (!o.values.interactive && !o.values.tty && o.cmd.length > 0) {
    const code = await runLight(o);
    if (code !== null) return code;
  }
  return (await import('./run-full')).runImage(o);
}
