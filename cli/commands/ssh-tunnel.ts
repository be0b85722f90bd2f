import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { errorEnvelopeSchema } from '@/lib/contracts/common';
import { pipeSocket } from '@/lib/ws-pipe';
import { configPath, loadConfig } from '../config';
import { CliError } from '../output';
import { knownHostLines, machineOfHost, renderBlock, replaceBlock, sshQuote } from '../ssh-config-block';

/**
 * hangar ssh --stdio NAME: OpenSSH's ProxyCommand. Its stdin and stdout become a raw byte stream to
 * the machine's sshd, through the Hangar server's websocket (so it works from anywhere that reaches
 * the Hangar URL). Errors go to stderr, where ssh shows them.
 */
export async function sshStdio(host: string | undefined): Promise<number> {
  if (!host) throw new CliError('Usage: hangar ssh --stdio NAME   (as OpenSSH ProxyCommand: hangar ssh --stdio %n)', 2);
  const cfg = loadConfig();
  if (!cfg.token) throw new CliError('Not logged in: run hangar login first.', 2);
  const name = machineOfHost(host);
  const url = `${cfg.url.replace(/^http/, 'ws')}/api/machines/${encodeURIComponent(name)}/ssh-tunnel`;
  const { WebSocket } = await import('ws');
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${cfg.token}` }, perMessageDeflate: false });
  return new Promise<number>((resolve) => {
    let code = 0;
    const fail = (message: string) => {
      process.stderr.write(`hangar: ${message}\n`);
      code = 1;
    };
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let message = `HTTP ${res.statusCode} from ${cfg.url}`;
        try {
          const env = errorEnvelopeSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
          if (env.success) message = env.data.error.message;
        } catch {
          // not JSON
        }
        fail(message);
        resolve(res.statusCode === 404 ? 4 : 1);
      });
    });
    ws.on('error', (err) => {
      fail(`Cannot reach ${cfg.url}: ${err.message}`);
      resolve(1);
    });
    ws.on('open', () => {
      pipeSocket(ws, process.stdin, process.stdout, () => undefined);
      process.stdin.on('error', () => ws.close());
    });
    ws.on('close', (closeCode, reason) => {
      if (closeCode >= 4000 || closeCode === 1011) fail(reason.toString() || `The tunnel closed (${closeCode}).`);
      process.stdin.destroy();
      // What is still buffered for stdout goes out before the exit.
      process.stdout.write('', () => resolve(code));
    });
  });
}

/** Hangar's known_hosts: next to the CLI's config. */
const knownHostsPath = () => path.join(path.dirname(configPath()), 'known_hosts');

/** This CLI as OpenSSH should run it: node and the script, by absolute path. */
function proxyCommand(): string {
  const script = process.argv[1] ? path.resolve(process.argv[1]) : 'hangar';
  return `${sshQuote(process.execPath)} ${sshQuote(script)} ssh --stdio %n`;
}

/**
 * hangar ssh-config [--file F]: the block in ~/.ssh/config (between markers, rewritten on each
 * run) that lets plain OpenSSH, scp, rsync and VS Code reach machines as `hangar.NAME`, and the
 * known_hosts file with their host keys, read through the server.
 */
export async function sshConfig(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { file: { type: 'string' } } });
  const cfg = loadConfig();
  if (!cfg.token) throw new CliError('Not logged in: run hangar login first.', 2);
  const client = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const hosts = (await client.ssh.hosts()).items;
  const kh = knownHostsPath();
  // Machines not running now keep the host keys written before; gone machines lose theirs.
  const kept = new Map<string, string[]>();
  try {
    for (const line of fs.readFileSync(kh, 'utf8').split('\n')) {
      const alias = line.split(' ')[0];
      if (!alias?.startsWith('hangar.')) continue;
      kept.set(alias, [...(kept.get(alias) ?? []), line]);
    }
  } catch {
    // first run
  }
  const lines: string[] = [];
  const notes: string[] = [];
  await Promise.all(
    hosts.map(async (h) => {
      if (h.state === 'running') {
        try {
          const r = await client.ssh.hostKeys(h.id);
          kept.set(`hangar.${h.name}`, knownHostLines(h.name, r.keys));
        } catch (err) {
          notes.push(`${h.name}: host keys not read (${(err as Error).message})`);
        }
      } else if (!kept.has(`hangar.${h.name}`)) notes.push(`${h.name} is ${h.state}: run hangar ssh-config again once it runs, for its host key.`);
    }),
  );
  for (const h of hosts) lines.push(...(kept.get(`hangar.${h.name}`) ?? []));
  fs.mkdirSync(path.dirname(kh), { recursive: true, mode: 0o700 });
  writeWhole(kh, lines.length ? lines.join('\n') + '\n' : '', 0o600);
  const file = path.resolve(values.file ?? path.join(os.homedir(), '.ssh', 'config'));
  let before = '';
  try {
    before = fs.readFileSync(file, 'utf8');
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  }
  let next: string;
  try {
    next = replaceBlock(before, renderBlock({ hosts: hosts.map((h) => ({ name: h.name, user: h.user })), proxyCommand: proxyCommand(), knownHosts: kh }));
  } catch (err) {
    throw new CliError(`${file}: ${(err as Error).message}`);
  }
  writeWhole(file, next, 0o600);
  for (const n of notes) console.error(`hangar: ${n}`);
  console.log(`Wrote ${hosts.length} host${hosts.length === 1 ? '' : 's'} to ${file} (known hosts: ${kh}). Try: ssh hangar.${hosts[0]?.name ?? 'NAME'}`);
}

/** A file replaced by a rename: a reader never sees half of it. */
function writeWhole(file: string, text: string, mode: number): void {
  const tmp = `${file}.hangar-${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode });
  fs.renameSync(tmp, file);
}
