import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { run } from '@/server/drivers/exec';

/** Debian's PostgreSQL binaries (apt `postgresql`), newest version first. */
function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const p = path.join(base, v, 'bin', name);
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`PostgreSQL's ${name} is not installed (apt-get install postgresql); ./hangar test installs it.`);
}

/** The uid and gid of Debian's `postgres` account. */
function postgresUser(): { uid?: number; gid?: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('No postgres user: apt-get install postgresql creates it.');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

/**
 * A throwaway PostgreSQL server on a private port and socket dir, trust auth on loopback.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user.
 */
export async function startPostgres(): Promise<{ url: string; stop: () => Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-pg-'));
  const data = path.join(dir, 'data');
  const sock = path.join(dir, 'sock');
  fs.mkdirSync(sock);
  const user = process.getuid?.() === 0 ? postgresUser() : {};
  if (user.uid !== undefined) for (const d of [dir, sock]) fs.chownSync(d, user.uid, user.gid!);
  const init = await run([pgBin('initdb'), '-D', data, '-U', 'hangar', '--auth=trust', '-E', 'UTF8', '--no-sync'], { timeoutMs: 120_000, cwd: dir, ...user });
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const args = ['-D', data, '-p', String(port), '-k', sock, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'];
  const proc = spawn(pgBin('postgres'), args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir, ...user });
  let log = '';
  proc.stderr!.on('data', (b) => (log += b));
  const admin = `postgres://hangar@127.0.0.1:${port}/postgres`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const c = new pg.Client({ connectionString: admin });
    try {
      await c.connect();
      await c.query('CREATE DATABASE hangar_test');
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`PostgreSQL did not start:\n${log}`, { cause: err });
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    // Through its unix socket (`host` names the dir): a path every network namespace of this host reaches (netns.ts).
    url: `postgres://hangar@127.0.0.1:${port}/hangar_test?host=${encodeURIComponent(sock)}`,
    async stop() {
      await new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGINT'); // fast shutdown
      });
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One statement on the `postgres` database of the server at `serverUrl` (CREATE or DROP DATABASE for a test's own). */
export async function adminSql(serverUrl: string, sql: string): Promise<void> {
  const url = new URL(serverUrl);
  url.pathname = '/postgres';
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}
