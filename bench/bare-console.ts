// The floor for a console's echo on this host: the smallest console server that speaks the
// console's protocol (socket.io's /console: attach, input, output with its ack) over the same
// shell as Hangar's host shell console, on a pty, and nothing else, in a process of its own.
// api-load measures its echo with the same probe, under the same load on Hangar, in the same
// run: what any console server gets here while that load keeps the host's 2 cores busy.
// Prints "listening PORT".
import http from 'node:http';
import { Server } from 'socket.io';
import { spawnPty } from '@/server/drivers/pty';
import type { ConsoleSource } from '@/server/drivers/types';

const server = http.createServer();
const io = new Server(server, { transports: ['websocket'] });
io.of('/console').on('connection', (socket) => {
  let shell: ConsoleSource | null = null;
  socket.on('attach', (req: { cols: number; rows: number }, reply: (r: { ok: boolean }) => void) => {
    shell?.close();
    shell = spawnPty([process.env.SHELL || '/bin/bash', '-l'], { cols: req.cols, rows: req.rows, cwd: process.env.HOME || '/' });
    shell.onData((data) => socket.emit('output', { offset: 0, data }, () => undefined));
    reply({ ok: true });
  });
  socket.on('input', (m: { data: string }) => shell?.write(m.data));
  socket.on('disconnect', () => shell?.close());
});
server.listen(0, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`listening ${typeof addr === 'object' && addr ? addr.port : 0}`);
});
process.on('SIGTERM', () => process.exit(0));
