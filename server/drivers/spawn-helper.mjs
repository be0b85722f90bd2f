// The process that starts Hangar's host commands for run() (exec.ts), forked once by the server.
//
// Starting a process from Node holds the caller's event loop until the child has exec'd: libuv
// forks (copying the page tables, so the bigger the caller the longer) and then waits on a pipe
// for the exec. Measured on a 2-core host: 4.5 ms from a 44 MB process, 17.5 ms from 244 MB. In
// the server that stalls every console and request each time a tool runs; here it stalls only
// this small process, which has nothing else to do. Plain JavaScript without imports of Hangar's
// own, so the same file runs from the source tree (tests) and next to the bundle (dist/).
//
// Messages over the IPC channel (advanced serialization: Buffers pass as bytes), by run id:
//   in:  spawn {id, file, args, cwd, env, uid, gid, stdin, input, stdoutFile}
//        stdin {id, data} (acknowledged once written), stdin-end {id}, kill {id}
//   out: spawned {id, pid}, data {id, stream, data}, stdin-ack {id, closed}, done {id, code, signal, error, thrown}
// `done` comes last for a run, after all of its output. `thrown`: spawn itself refused the command
// (a NUL byte in an argument, a uid it may not take): run() rejects, as spawn's throw did.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

/** Runs by id: the child, and whether it was killed (then its end is not held up by pipes an orphan keeps open). */
const runs = new Map();

const send = (m) => {
  if (process.connected) process.send(m);
};

function killGroup(child) {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/**
 * Output to the server, read no faster than the channel takes it: while a message waits to go out,
 * the stream it came from is paused (the command then blocks on its full pipe, as it did when the
 * server read it itself), so a command that floods its output cannot fill this process's memory.
 */
function relay(id, name, stream) {
  stream.on('data', (data) => {
    if (!process.connected) return;
    if (!process.send({ op: 'data', id, stream: name, data }, () => stream.resume())) stream.pause();
  });
}

function start(m) {
  let outFd = null;
  try {
    if (m.stdoutFile) outFd = openSync(m.stdoutFile, 'w', 0o600);
  } catch (e) {
    return send({ op: 'done', id: m.id, code: null, signal: null, error: e.message });
  }
  let child;
  try {
    child = spawn(m.file, m.args, {
      cwd: m.cwd,
      env: m.env,
      stdio: [m.stdin ? 'pipe' : 'ignore', outFd ?? 'pipe', 'pipe'],
      shell: false,
      uid: m.uid,
      gid: m.gid,
      // Own process group, so a timeout or match kills the children too (they would hold the pipes open).
      detached: true,
    });
  } catch (e) {
    return send({ op: 'done', id: m.id, code: null, signal: null, error: e.message, thrown: true });
  } finally {
    // The child has its own copy.
    if (outFd !== null) closeSync(outFd);
  }
  const r = { child, killed: false, settled: false };
  runs.set(m.id, r);
  const finish = (code, signal, error) => {
    if (r.settled) return;
    r.settled = true;
    runs.delete(m.id);
    send({ op: 'done', id: m.id, code, signal, error });
  };
  r.finish = finish;
  child.on('spawn', () => send({ op: 'spawned', id: m.id, pid: child.pid }));
  if (child.stdout) relay(m.id, 'stdout', child.stdout);
  if (child.stderr) relay(m.id, 'stderr', child.stderr);
  child.on('error', (e) => finish(null, null, e.message));
  child.on('close', (code, signal) => finish(code, signal));
  // When it was killed, do not wait for pipes that some orphan may still hold.
  child.on('exit', (code, signal) => {
    if (r.killed) endKilled(r, code, signal);
  });
  // A child may stop reading before the end of its input (xz --single-stream does): not an error here.
  child.stdin?.on('error', () => undefined);
  if (m.input !== undefined) child.stdin?.end(m.input);
}

function endKilled(r, code, signal) {
  r.child.stdout?.destroy();
  r.child.stderr?.destroy();
  r.finish(code, signal);
}

process.on('message', (m) => {
  const r = runs.get(m.id);
  switch (m.op) {
    case 'spawn':
      return start(m);
    case 'stdin':
      // Gone (the child closed its input, or ended): the server stops feeding.
      if (!r?.child.stdin || r.child.stdin.destroyed) return send({ op: 'stdin-ack', id: m.id, closed: true });
      // Acknowledged once written: the server sends the next chunk then, so a child that reads slowly holds the feed back.
      r.child.stdin.write(m.data, (err) => send({ op: 'stdin-ack', id: m.id, closed: !!err }));
      return;
    case 'stdin-end':
      // With `failed`, the caller's input broke off: closed, so the command sees its end (as before the helper).
      if (m.failed) r?.child.stdin?.destroy();
      else r?.child.stdin?.end();
      return;
    case 'kill':
      if (!r) return;
      r.killed = true;
      killGroup(r.child);
      // It may have exited before the kill was asked for.
      if (r.child.exitCode !== null || r.child.signalCode !== null) endKilled(r, r.child.exitCode, r.child.signalCode);
      return;
  }
});

// The server is gone (its channel closed): nothing it started is left running. The same if this
// process ends for another reason (a bug of its own).
process.on('disconnect', () => process.exit(0));
process.on('exit', () => {
  for (const r of runs.values()) killGroup(r.child);
});
// A terminal's Ctrl-C goes to the server's whole process group: the server decides when to stop
// (its commands may finish in its grace period), and this process goes when the server has.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => undefined);
