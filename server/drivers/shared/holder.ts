// The console holder (dist/holder.js): runs one container command on a pty of its own, in its
// own session, so the container outlives the Hangar server that started it. Like QEMU's serial
// chardev it logs everything the console prints to a file (read by the server's console, from
// the first line, whether or not anyone watched) and takes typing on a unix socket; a second
// socket takes control lines (`{"cols":N,"rows":N}`). When the command ends, its exit code is
// written next to the log and the holder exits.
//
//   node holder.js DIR -- ARGV...    (DIR gets console.log, console.sock, control.sock, holder.pid, exit)
import fs from 'node:fs';
import net from 'node:net';
import * as pty from 'node-pty';
import { holderFiles } from './holder-files';

function main(argv: string[]): void {
  const sep = argv.indexOf('--');
  const dir = argv[0];
  const cmd = sep >= 0 ? argv.slice(sep + 1) : [];
  if (!dir || cmd.length === 0) {
    process.stderr.write('usage: holder.js DIR -- ARGV...\n');
    process.exit(2);
  }
  const f = holderFiles(dir);
  for (const s of [f.consoleSock, f.controlSock, f.exit]) fs.rmSync(s, { force: true });
  const log = fs.openSync(f.log, 'a', 0o600);
  const child = pty.spawn(cmd[0], cmd.slice(1), {
    name: 'xterm-256color',
    cols: 120,
    rows: 36,
    cwd: '/',
    env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TERM: 'xterm-256color', ...nspawnEnv() },
  });
  fs.writeFileSync(f.pid, JSON.stringify({ holder: process.pid, child: child.pid }));
  child.onData((d) => fs.writeSync(log, d));

  const input = net.createServer((s) => {
    s.on('data', (d) => child.write(d.toString('utf8')));
    s.on('error', () => undefined);
  });
  input.listen(f.consoleSock);
  const control = net.createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('utf8');
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const m = JSON.parse(line) as { cols?: unknown; rows?: unknown };
          if (Number.isInteger(m.cols) && Number.isInteger(m.rows))
            child.resize(Math.min(500, Math.max(10, m.cols as number)), Math.min(300, Math.max(5, m.rows as number)));
        } catch {
          // not a control line: ignored
        }
      }
    });
    s.on('error', () => undefined);
  });
  control.listen(f.controlSock);

  // Problems show on the console, where the user looks.
  forwardPorts(process.env.HANGAR_FORWARDS, (line) => fs.writeSync(log, `\r\nhangar: ${line}\r\n`));

  child.onExit(({ exitCode, signal }) => {
    // Whatever happens to the machine dir meanwhile (a destroy removes it), the holder must end.
    try {
      fs.writeFileSync(f.exit, JSON.stringify({ code: exitCode, signal: signal ?? null }));
      fs.closeSync(log);
      for (const s of [f.consoleSock, f.controlSock]) fs.rmSync(s, { force: true });
    } catch {
      // the dir is gone: nothing left to tidy
    }
    process.exit(0);
  });
  // The server may go away; the holder stays until its container ends.
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', () => child.kill('SIGTERM'));
}

/**
 * Port forwards of a NAT container (HANGAR_FORWARDS: [{port, to, toPort}]): host loopback port
 * to the container's address, proxied here so they live exactly as long as the container.
 */
function forwardPorts(spec: string | undefined, say: (line: string) => void): void {
  if (!spec) return;
  for (const f of JSON.parse(spec) as { port: number; to: string; toPort: number }[]) {
    const server = net.createServer((client) => {
      const upstream = net.connect(f.toPort, f.to);
      client.pipe(upstream).pipe(client);
      const close = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', close);
      upstream.on('error', close);
    });
    server.on('error', (err) => say(`port forward 127.0.0.1:${f.port} -> ${f.toPort} failed: ${err.message}`));
    server.listen(f.port, '127.0.0.1');
  }
}

/** nspawn without machined or dbus (see DESIGN.md). */
const nspawnEnv = () => ({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' });

main(process.argv.slice(2));
