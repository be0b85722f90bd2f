import { randomBytes } from 'node:crypto';
import type { Socket } from 'socket.io-client';
import { createApiClient } from '@/lib/api-client';
import { trustedAgent } from '../tls-trust';
import type { AttachReply } from '@/lib/contracts/console';
import { isTerminalReport } from '@/lib/terminal-reports';
import type { ConsoleClientToServer, ConsoleServerToClient } from '@/lib/events';
import { loadConfig } from '../config';
import { CliError } from '../output';
import { exec } from './machines';

/** Ctrl-]: leaves a serial console (as `virsh console` does) without touching the machine. */
const DETACH = '\x1d';

/**
 * A machine's console in this terminal, through the server's /console namespace (so it works
 * from any host that can reach Hangar; no SSH key leaves the server). Raw mode on a TTY;
 * piped stdin is typed as-is and ends with Ctrl-D.
 */
/** `typed`: sent as the first input (a command line for the shell). */
export async function attach(machineRef: string, channel: 'serial' | 'ssh', typed?: string, opts: { quiet?: boolean } = {}): Promise<number> {
  const cfg = loadConfig();
  if (!cfg.token) throw new CliError('Not logged in: run hangar login first.', 2);
  const machine = await createApiClient({ baseUrl: cfg.url, token: cfg.token }).machines.get(machineRef);
  // Loaded here, not at start-up: most commands never open a socket, and it is a third of the CLI's load time.
  const { io } = await import('socket.io-client');
  const s: Socket<ConsoleServerToClient, ConsoleClientToServer> = io(`${cfg.url}/console`, {
    transports: ['websocket'],
    auth: { token: cfg.token },
    reconnection: false,
    // wss:// to a pinned or CA-verified server: the same check as the API's requests.
    ...(cfg.tls && cfg.url.startsWith('https:') ? { agent: trustedAgent(cfg.tls) as unknown as string } : {}),
  });
  const sessionId = `cli-${randomBytes(9).toString('base64url')}`;
  const tty = process.stdin.isTTY === true;
  const size = () => ({ cols: process.stdout.columns || 80, rows: process.stdout.rows || 24 });
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(new CliError(`Cannot reach ${cfg.url}: ${e.message}`)));
  });
  const reply = await new Promise<AttachReply>((resolve) =>
    s.emit('attach', { sessionId, target: { kind: 'machine', machineId: machine.id, channel }, ...size() }, resolve),
  );
  if (!reply.ok) {
    s.disconnect();
    throw new CliError(reply.error.message);
  }
  // A command to run in the shell, typed as its first line (hangar run -it IMAGE -- CMD).
  if (typed) s.emit('input', { sessionId, data: typed });
  if (channel === 'serial' && !opts.quiet)
    process.stderr.write(`Connected to ${machine.name}'s serial console${reply.mode === 'readonly' ? ' (read-only)' : ''}. Ctrl-] leaves.\r\n`);
  if (channel === 'serial' && reply.replay) process.stdout.write(reply.replay.slice(-4000));
  else if (reply.replay) process.stdout.write(reply.replay);
  // This terminal answers questions in the replay (ash asks for the cursor position at each
  // prompt); those answers come in just after and must not reach the guest as typing.
  const replayAnswersUntil = reply.replay ? Date.now() + 500 : 0;

  return new Promise<number>((resolve) => {
    let finished = false;
    const done = (code: number) => {
      if (finished) return;
      // Before disconnect(): it emits 'disconnect' synchronously, which would report a lost connection.
      finished = true;
      resolve(code);
      if (tty) process.stdin.setRawMode(false);
      process.stdin.pause();
      s.disconnect();
    };
    s.on('output', (m, ack) => {
      process.stdout.write(m.data);
      ack();
    });
    s.on('exit', (m) => done(m.code ?? 0));
    s.on('closed', () => done(0));
    s.on('disconnect', () => done(1));
    if (tty) process.stdin.setRawMode(true);
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      if (tty && channel === 'serial' && d.includes(DETACH)) return done(0);
      if (Date.now() < replayAnswersUntil && isTerminalReport(d)) return;
      s.emit('input', { sessionId, data: d });
    });
    process.stdin.on('end', () => {
      // A shell ends at Ctrl-D; a serial console is left once its output has settled.
      if (channel === 'ssh') s.emit('input', { sessionId, data: '\x04' });
      else setTimeout(() => done(0), 1500);
    });
    process.stdout.on('resize', () => s.emit('resize', { sessionId, ...size() }));
  });
}

/** hangar ssh NAME: a login shell over SSH; hangar ssh NAME -- CMD: run it (like exec, over SSH). */
export async function ssh(argv: string[], json: boolean): Promise<number> {
  if (argv[0] === '--stdio') return (await import('./ssh-tunnel')).sshStdio(argv[1]);
  const name = argv[0];
  if (!name || name.startsWith('-')) throw new CliError('Usage: hangar ssh NAME [-- CMD [ARGS...]]', 2);
  if (argv.includes('--')) return exec(argv, json);
  return attach(name, 'ssh');
}

export async function serialConsole(argv: string[]): Promise<number> {
  if (!argv[0] || argv[0].startsWith('-')) throw new CliError('Usage: hangar console NAME', 2);
  return attach(argv[0], 'serial');
}
