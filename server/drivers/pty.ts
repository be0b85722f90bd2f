import * as pty from 'node-pty';
import type { ConsoleSource } from './types';

export interface PtyOptions {
  cols: number;
  rows: number;
  cwd: string;
  env?: Record<string, string>;
}

/** A process on a new pseudo-terminal, as a console source. argv only: no shell string is built. */
export function spawnPty(argv: string[], opts: PtyOptions): ConsoleSource {
  const [file, ...args] = argv;
  const proc = pty.spawn(file, args, {
    name: 'xterm-256color',
    cols: opts.cols,
    rows: opts.rows,
    cwd: opts.cwd,
    env: { ...cleanEnv(process.env), TERM: 'xterm-256color', COLORTERM: 'truecolor', ...opts.env },
  });
  let exited = false;
  return {
    write: (d) => proc.write(d),
    resize: (c, r) => {
      if (!exited) proc.resize(c, r);
    },
    pause: () => proc.pause(),
    resume: () => proc.resume(),
    onData: (fn) => void proc.onData(fn),
    onExit: (fn) =>
      void proc.onExit(({ exitCode }) => {
        exited = true;
        fn(exitCode);
      }),
    close: () => {
      if (!exited) proc.kill('SIGHUP');
    },
  };
}

/** Hangar's own secrets stay out of shells it starts. */
function cleanEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && !/^(HANGAR_ADMIN_PASSWORD|DATABASE_URL|HANGAR_TOKEN)$/.test(k)) out[k] = v;
  return out;
}
