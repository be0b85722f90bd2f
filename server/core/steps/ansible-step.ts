import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { run } from '@/server/drivers/exec';
import { projectRoot } from '../paths';

/** What of a step's machine (builtins.ts's StepMachine) Ansible uses: named here, so the two files do not import each other. */
interface StepMachine {
  readonly name: string;
  execRaw?(argv: string[], timeoutS?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  writeFile(path: string, content: string | Uint8Array, mode?: string): Promise<void>;
  readFile(path: string): Promise<Buffer>;
  log(line: string): void;
  readonly signal?: AbortSignal;
}

/** A request body of the bridge: module payloads are some hundred KiB; past this it is refused. */
const MAX_BRIDGE_BODY = 64 * 1024 * 1024;

/** Python for modules: Debian guests get python3 (and python3-apt, which apt modules want) from their mirror. */
const PYTHON_BOOTSTRAP = [
  'command -v python3 >/dev/null && exit 0',
  'command -v apt-get >/dev/null || { echo "no python3 in the machine, and no apt-get to install it" >&2; exit 3; }',
  'export DEBIAN_FRONTEND=noninteractive',
  '(apt-get update -q && apt-get install -y -q --no-install-recommends python3 python3-apt) > /tmp/hangar-ansible-py.log 2>&1 ' +
    '|| { tail -5 /tmp/hangar-ansible-py.log >&2; exit 1; }',
].join('; ');

const readBody = (req: http.IncomingMessage): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let len = 0;
    req.on('data', (b: Buffer) => {
      len += b.length;
      if (len > MAX_BRIDGE_BODY) req.destroy(new Error('request over 64 MiB'));
      else parts.push(b);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>);
      } catch (err) {
        reject(err as Error);
      }
    });
    req.on('error', reject);
  });

/**
 * The machine's exec and files on a unix socket (mode 0600, in a 0700 directory) for the `hangar`
 * connection plugin (ansible/hangar.py), for one step: Ansible on the host reaches the guest the
 * way every step does (agent, SSH, nsenter or podman exec), whatever the driver and network.
 */
async function withBridge<T>(m: StepMachine, dir: string, fn: (sock: string) => Promise<T>): Promise<T> {
  const raw = m.execRaw;
  if (!raw) throw new Error('this build cannot run Ansible (no raw exec)');
  const sock = path.join(dir, 'bridge.sock');
  const server = http.createServer((req, res) => {
    const answer = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    readBody(req)
      .then(async (b) => {
        if (req.url === '/exec' && typeof b.cmd === 'string') {
          const r = await raw(['/bin/sh', '-c', b.cmd], 3600);
          return answer(200, { rc: r.code, stdout: Buffer.from(r.stdout).toString('base64'), stderr: Buffer.from(r.stderr).toString('base64') });
        }
        if (req.url === '/put' && typeof b.path === 'string' && typeof b.data === 'string') {
          await m.writeFile(b.path, Buffer.from(b.data, 'base64'), '600');
          return answer(200, {});
        }
        if (req.url === '/fetch' && typeof b.path === 'string') return answer(200, { data: (await m.readFile(b.path)).toString('base64') });
        answer(400, { error: `unknown bridge call ${req.url}` });
      })
      .catch((err: Error) => answer(500, { error: err.message }));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(sock, () => resolve()));
  fs.chmodSync(sock, 0o600);
  try {
    return await fn(sock);
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

/** The play of an `ansible MODULE --k=v` step: one task on the machine. */
export function modulePlay(module: string, args: Record<string, unknown>): string {
  // JSON is YAML: no quoting rules of our own between the arguments and Ansible.
  return JSON.stringify([{ hosts: 'all', gather_facts: false, tasks: [{ name: `${module} (hangar step)`, [module]: args }] }], null, 2);
}

/**
 * Runs a playbook with Debian's ansible-core on the host against the machine (its only host, named
 * `hangar.NAME`). A failing task fails the step with Ansible's own output, so nothing is cached.
 */
export async function runPlaybook(m: StepMachine, playbook: string, timeoutS: number): Promise<void> {
  const boot = await m.execRaw?.(['sh', '-c', PYTHON_BOOTSTRAP], 900);
  if (boot && boot.code !== 0)
    throw new Error(`Ansible needs python3 in the machine: ${`${boot.stderr}${boot.stdout}`.trim().split('\n').slice(-3).join(' | ')}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-ansible-'));
  try {
    fs.writeFileSync(path.join(dir, 'site.yml'), playbook, { mode: 0o600 });
    await withBridge(m, dir, async (sock) => {
      const host = `hangar.${m.name}`;
      const inventory = { all: { hosts: { [host]: { ansible_connection: 'hangar', ansible_hangar_socket: sock } } } };
      fs.writeFileSync(path.join(dir, 'inventory.json'), JSON.stringify(inventory), { mode: 0o600 });
      const r = await run(['ansible-playbook', '-i', path.join(dir, 'inventory.json'), path.join(dir, 'site.yml')], {
        timeoutMs: timeoutS * 1000,
        signal: m.signal,
        cwd: dir,
        env: {
          HOME: dir,
          ANSIBLE_CONNECTION_PLUGINS: path.join(projectRoot(), 'server', 'core', 'steps', 'ansible'),
          ANSIBLE_LOCAL_TEMP: path.join(dir, 'tmp'),
          ANSIBLE_NOCOLOR: '1',
          ANSIBLE_FORCE_COLOR: '0',
          ANSIBLE_RETRY_FILES_ENABLED: '0',
          ANSIBLE_HOST_KEY_CHECKING: '0',
          ANSIBLE_PYTHON_INTERPRETER: 'auto_silent',
          ANSIBLE_CONFIG: path.join(dir, 'none.cfg'),
        },
        onLine: (l) => l.trim() && m.log(l),
      });
      if (r.timedOut) throw new Error(`ansible-playbook did not finish within ${timeoutS} s`);
      if (r.code !== 0) {
        const why = `${r.stdout}\n${r.stderr}`
          .split('\n')
          .filter((l) => /fatal:|failed:|ERROR!|msg/.test(l))
          .slice(-3)
          .join(' | ');
        throw new Error(`ansible-playbook failed (exit ${r.code ?? r.signal}): ${why || r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
      }
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
