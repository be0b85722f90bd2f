import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { BuildResult } from '@/lib/contracts/steps';
import { run } from '@/server/drivers/exec';
import { cpCases } from './files-cases';
import { adminToken, client, jobDone, startServer, type RunningServer, tearDown } from './harness';

/**
 * A Debian step chain on real parts: an nspawn container on the NAT network, apt installing a
 * package from the host's mirror, the ssh step letting a key in (used from the host), and the
 * second run of the chain coming from the cache. Packages are shared through HANGAR_CACHE.
 */
let srv: RunningServer;
let api: ApiClient;
let env: Record<string, string>;
let dir: string;
let token: string;

beforeAll(async () => {
  srv = await startServer({ env: { HANGAR_CACHE: path.join(os.tmpdir(), 'hangar-test-cache') } });
  token = await adminToken(srv.url);
  api = client(srv.url, token);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-steps-deb-'));
  env = { XDG_CONFIG_HOME: path.join(dir, 'cfg'), HOME: dir, HANGAR_URL: srv.url, HANGAR_TOKEN: token };
  const img = await jobDone(api, await api.images.build({ kind: 'debian-12' }), 15 * 60_000);
  expect(img.error).toBeNull();
}, 16 * 60_000);

afterAll(async () => {
  // The CLI's config and the ssh key pair, first: a tearDown past the hook's time would leave them.
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  await tearDown(srv, api);
}, 120_000);

const cli = (args: string[], input?: string) => run([process.execPath, 'dist/cli.js', ...args], { env, input, timeoutMs: 600_000 });

describe('a Debian step chain', () => {
  it('debian-12 + apt hello + ssh KEY + exec -- hello: built once, then from the cache; the key logs in from the host', async () => {
    expect((await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'id')])).code).toBe(0);
    const chain = ['debian-12', '+', 'apt', 'hello', '+', 'ssh', `@${path.join(dir, 'id.pub')}`, '+', 'exec', '--', 'hello'];
    let t0 = performance.now();
    const cold = await cli(['--json', 'build', '--name', 'sd-a', ...chain]);
    const coldMs = performance.now() - t0;
    expect(cold.code, cold.stderr).toBe(0);
    expect(JSON.parse(cold.stdout)).toMatchObject({ machine: 'sd-a', hits: 0, ran: 4 });
    expect((await api.machines.exec('sd-a', ['hello'])).stdout).toBe('Hello, world!\n');
    const m = await api.machines.get('sd-a');
    expect(m.address).toMatch(/^10\.213\./);
    const ssh = await run(
      [
        'ssh',
        '-i',
        path.join(dir, 'id'),
        '-o',
        'BatchMode=yes',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'ConnectTimeout=20',
        `root@${m.address}`,
        'hello',
      ],
      { timeoutMs: 60_000 },
    );
    expect(ssh.stdout, ssh.stderr).toBe('Hello, world!\n');

    t0 = performance.now();
    const warm = await cli(['--json', 'build', '--name', 'sd-b', ...chain]);
    const warmMs = performance.now() - t0;
    expect(JSON.parse(warm.stdout) as BuildResult).toMatchObject({ machine: 'sd-b', hits: 4, ran: 0 });
    expect((await api.machines.exec('sd-b', ['hello'])).stdout).toBe('Hello, world!\n');
    expect(warmMs * 2).toBeLessThan(coldMs);
    // A failing apt step fails the build with apt's own words, and nothing of it is cached.
    const bad = await cli(['build', 'debian-12', '+', 'apt', 'no-such-package-hangar', '--name', 'sd-c']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Step 2 \(apt\) failed: .*Unable to locate package no-such-package-hangar/);
    expect((await api.steps.nodes()).items.filter((n) => n.step === 'apt' && (n.args.packages as string[])[0] === 'no-such-package-hangar')).toEqual([]);
  }, 900_000);

  it('transient steps on a container run on a throwaway fork: the chain machine untouched, no fork left', async () => {
    const chain = ['debian-12', '+', 'apt', 'hello', '+', 'ssh', `@${path.join(dir, 'id.pub')}`, '+', 'exec', '--', 'hello'];
    const machines = async () => (await api.machines.list()).items.map((x) => x.name).sort();
    const before = await machines();
    // wait-port is transient: it checks a fork; the step after it runs on the chain's machine, not cached.
    const r = await cli(['--json', 'build', '--name', 'sd-t', ...chain, '+', 'wait-port', '22', '+', 'exec', '--', 'sh', '-c', 'echo after > /root/after']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ machine: 'sd-t', hits: 4, ran: 2 });
    expect((await api.machines.exec('sd-t', ['cat', '/root/after'])).stdout).toBe('after\n');
    // --transient: the last step runs on a fork only.
    const t = await cli(['--json', 'build', '--transient', '--name', 'sd-u', ...chain, '+', 'exec', '--', 'touch', '/root/mark']);
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout)).toMatchObject({ machine: 'sd-u', hits: 4, ran: 1 });
    expect((await api.machines.exec('sd-u', ['sh', '-c', 'test -e /root/mark && echo there || echo absent'])).stdout).toBe('absent\n');
    expect((await api.machines.exec('sd-u', ['hello'])).stdout).toBe('Hello, world!\n');
    expect(await machines()).toEqual([...before, 'sd-t', 'sd-u'].sort());
  }, 600_000);

  it('hangar run CHAIN: a shell in the built container, the machine removed when it ends', async () => {
    const r = await cli(['run', 'debian-12', '+', 'apt', 'hello'], 'hello; exit 0\n');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Hello, world!');
    expect(r.stderr).toMatch(/2 steps from the cache, 0 run/);
    expect((await api.machines.list()).items.filter((x) => x.name.startsWith('run-'))).toEqual([]);
  }, 300_000);
});

describe('hangar cp with an nspawn container (nsenter)', () =>
  cpCases('sd-a', () => ({ srv, token, api, home: dir, cli: (args) => run([process.execPath, 'dist/cli.js', ...args], { env, timeoutMs: 120_000 }) })));

describe('Ansible steps (ansible-core on the host, through the step bridge)', () => {
  it('ansible package --name=patch --state=present installs it; a playbook runs after it from the cache; a failing module caches nothing', async () => {
    const base = ['debian-12', '+', 'ansible', 'package', '--name=patch', '--state=present'];
    const first = await cli(['--json', 'build', '--name', 'sd-an', ...base]);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ machine: 'sd-an', ran: 1 });
    expect((await api.machines.exec('sd-an', ['patch', '--version'])).stdout).toMatch(/GNU patch/);

    fs.writeFileSync(
      path.join(dir, 'site.yml'),
      '- hosts: all\n  gather_facts: false\n  tasks:\n    - copy: { dest: /etc/motd, content: "from a playbook\\n", mode: "0640" }\n',
    );
    const play = await cli(['--json', 'build', '--name', 'sd-ap', ...base, '+', 'ansible-playbook', `@${path.join(dir, 'site.yml')}`]);
    expect(play.code, play.stderr).toBe(0);
    expect(JSON.parse(play.stdout)).toMatchObject({ machine: 'sd-ap', hits: 2, ran: 1 });
    expect((await api.machines.exec('sd-ap', ['stat', '-c', '%a %n', '/etc/motd'])).stdout).toBe('640 /etc/motd\n');
    const node = (await api.steps.nodes()).items.find((n) => n.step === 'ansible-playbook');
    expect(node?.args.playbook).toContain('from a playbook');

    const bad = await cli(['build', '--name', 'sd-ab', ...base, '+', 'ansible', 'package', '--name=no-such-package-hangar', '--state=present']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Step 3 \(ansible\) failed: ansible-playbook failed .*no-such-package-hangar/);
    expect((await api.steps.nodes()).items.filter((n) => n.step === 'ansible' && n.args.args && (n.args.args as { name?: string }).name !== 'patch')).toEqual(
      [],
    );
  }, 300_000);
});
