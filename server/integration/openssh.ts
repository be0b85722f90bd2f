import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@/lib/api-client';
import type { Job } from '@/lib/contracts/jobs';
import { run } from '@/server/drivers/exec';
import { client, jobDone, until, type RunningServer } from './harness';

/**
 * OpenSSH through Hangar, with the real client: a member's own key (ssh-keygen here), given
 * two machines to operate (the Debian VM `vm` and a Debian container made here), `hangar
 * ssh-config` writes the config and known_hosts, then ssh, scp and rsync go through the
 * ProxyCommand tunnel with StrictHostKeyChecking=yes. Revoking the grant closes an open tunnel
 * and takes the key out of the guest. Runs inside debian.int.test.ts, on its server and VM.
 */
export function opensshSuite(ctx: () => { srv: RunningServer; api: ApiClient; vm: string }): void {
  describe('OpenSSH through Hangar (ssh-config, ssh --stdio, keys)', () => {
    // Made when the suite runs (not when the file is collected) and removed after it, whatever its tests did.
    let home = '';
    let key = '';
    let cfgFile = '';
    beforeAll(() => {
      home = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-openssh-'));
      key = path.join(home, 'id_ed25519');
      cfgFile = path.join(home, 'ssh_config');
    });
    afterAll(() => {
      if (home) fs.rmSync(home, { recursive: true, force: true });
    });
    let env: Record<string, string> = {};
    let member: ApiClient;
    let memberId = '';
    const finished = (job: Job, ms?: number) => jobDone(ctx().api, job, ms);
    const cli = (args: string[], input?: string) => run([process.execPath, 'dist/cli.js', ...args], { env, input, timeoutMs: 60_000 });
    const sshOpts = () => [
      '-F',
      cfgFile,
      '-i',
      key,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      'ConnectTimeout=30',
    ];
    const ssh = (host: string, ...cmd: string[]) => run(['ssh', ...sshOpts(), host, ...cmd], { env, timeoutMs: 60_000 });

    it("keeps a member's keys: malformed and weak keys refused (400), a duplicate is 409, the CLI adds, lists and removes", async () => {
      const { srv, api } = ctx();
      await api.users.create({ username: 'sshuser', role: 'member', password: 'sshuser-password-1' });
      const login = await fetch(`${srv.url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url },
        body: JSON.stringify({ username: 'sshuser', password: 'sshuser-password-1' }),
      });
      const cookie = login.headers.get('set-cookie')!.split(';')[0];
      const tok = await fetch(`${srv.url}/api/tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: srv.url, cookie },
        body: JSON.stringify({ name: 'ssh' }),
      });
      const token = ((await tok.json()) as { secret: string }).secret;
      member = client(srv.url, token);
      memberId = (await member.auth.me()).user.id;
      env = { XDG_CONFIG_HOME: path.join(home, 'cfg'), HANGAR_URL: srv.url, HANGAR_TOKEN: token };

      expect((await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'me@laptop', '-f', key])).code).toBe(0);
      expect((await run(['ssh-keygen', '-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', `${key}-weak`])).code).toBe(0);
      await expect(member.sshKeys.add({ publicKey: 'ssh-ed25519 AAAAnot-a-key' })).rejects.toMatchObject({ status: 400, message: /Malformed/ });
      await expect(member.sshKeys.add({ publicKey: fs.readFileSync(`${key}-weak.pub`, 'utf8') })).rejects.toMatchObject({ status: 400, message: /2048/ });
      await expect(member.sshKeys.add({ publicKey: fs.readFileSync(key, 'utf8') })).rejects.toMatchObject({ status: 400, message: /private key/ });
      const bad = await cli(['keys', 'add', `${key}-weak.pub`]);
      expect(bad).toMatchObject({ code: 1, stderr: expect.stringContaining('2048') });

      const added = await cli(['keys', 'add', `${key}.pub`, '--name', 'laptop']);
      expect(added.code, added.stderr).toBe(0);
      const fp = (await run(['ssh-keygen', '-l', '-E', 'sha256', '-f', `${key}.pub`])).stdout.split(' ')[1];
      expect(added.stdout).toContain(fp);
      await expect(member.sshKeys.add({ publicKey: fs.readFileSync(`${key}.pub`, 'utf8') })).rejects.toMatchObject({ status: 409 });
      expect((await cli(['keys', 'ls'])).stdout).toMatch(new RegExp(`ssh-ed25519 +${fp.replace(/[+/]/g, '\\$&')} +laptop`));
      // Another user's key is not yours to remove: the same 404 as a missing one.
      const mine = (await member.sshKeys.list()).items[0];
      await expect(api.sshKeys.remove(mine.id)).rejects.toMatchObject({ status: 404 });
    }, 60_000);

    it("ssh, scp and rsync reach the VM and a container through ssh-config's ProxyCommand with the member's key", async () => {
      const { api, vm } = ctx();
      // On a loaded host the VM's first boot may have missed its ready limit (the test before says so): a start brings it up.
      if ((await api.machines.get(vm)).state !== 'running') await finished(await api.machines.act(vm, 'start'), 240_000);
      const ct = await finished(await api.machines.create({ name: 'ct-ssh', image: 'debian-12', driver: 'nspawn', memoryMib: 256 }), 60_000);
      expect(ct.error).toBeNull();
      // A member sees nothing until given the machines; then it may operate them.
      expect((await member.ssh.hosts()).items).toEqual([]);
      for (const m of [vm, 'ct-ssh']) await api.grants.put(m, { username: 'sshuser', role: 'operator' });
      const vmName = (await api.machines.get(vm)).name;
      const conf = await cli(['ssh-config', '--file', cfgFile]);
      expect(conf.code, conf.stderr).toBe(0);
      const text = fs.readFileSync(cfgFile, 'utf8');
      expect(text).toContain(`Host hangar.${vmName}\n  User root`);
      expect(text).toContain('Host hangar.ct-ssh\n');
      expect(text).toMatch(/ProxyCommand .*dist\/cli\.js ssh --stdio %n/);
      const kh = fs.readFileSync(path.join(home, 'cfg', 'hangar', 'known_hosts'), 'utf8');
      expect(kh).toMatch(new RegExp(`^hangar\\.${vmName} ssh-ed25519 `, 'm'));
      expect(kh).toMatch(/^hangar\.ct-ssh ssh-ed25519 /m);
      // Rewritten in place on a second run: still one block.
      expect((await cli(['ssh-config', '--file', cfgFile])).code).toBe(0);
      expect(fs.readFileSync(cfgFile, 'utf8').split('>>> hangar ssh-config >>>').length).toBe(2);

      // rsync is not in the minimal image: its binary and the two libraries the guest lacks go over scp first.
      const rsyncDir = path.join(home, 'rsync');
      fs.mkdirSync(rsyncDir);
      for (const f of ['/usr/bin/rsync', '/lib/x86_64-linux-gnu/libpopt.so.0', '/lib/x86_64-linux-gnu/libxxhash.so.0'])
        fs.copyFileSync(fs.realpathSync(f), path.join(rsyncDir, path.basename(f)));
      fs.chmodSync(path.join(rsyncDir, 'rsync'), 0o755);
      const tree = path.join(home, 'tree');
      fs.mkdirSync(path.join(tree, 'sub'), { recursive: true });
      fs.writeFileSync(path.join(tree, 'a.txt'), 'alpha\n');
      fs.writeFileSync(path.join(tree, 'sub', 'b.bin'), Buffer.alloc(3 * 2 ** 20, 7));
      const big = path.join(home, 'big.bin');
      fs.writeFileSync(big, Buffer.from(Array.from({ length: 2 * 2 ** 20 }, (_, i) => (i * 31) % 251)));
      const sum = (await run(['sha256sum', big])).stdout.split(' ')[0];

      for (const host of [`hangar.${vmName}`, 'hangar.ct-ssh']) {
        // The key reaches the guest soon after the grant (the guest's authorized_keys is rewritten).
        await until(async () => (await ssh(host, 'true')).code === 0, `ssh to ${host}`, 30_000, 500);
        const scp = await run(['scp', '-q', ...sshOpts(), big, `${host}:/root/big.bin`], { env, timeoutMs: 120_000 });
        expect(scp.code, scp.stderr).toBe(0);
        expect((await run(['scp', '-q', '-r', ...sshOpts(), rsyncDir, `${host}:/opt/hangar-rsync`], { env, timeoutMs: 60_000 })).code).toBe(0);
        const rs = await run(
          [
            'rsync',
            '-a',
            '-e',
            ['ssh', ...sshOpts()].join(' '),
            '--rsync-path=LD_LIBRARY_PATH=/opt/hangar-rsync /opt/hangar-rsync/rsync',
            `${tree}/`,
            `${host}:/srv/tree/`,
          ],
          { env, timeoutMs: 120_000 },
        );
        expect(rs.code, rs.stderr).toBe(0);
        const check = await ssh(host, 'echo $(whoami)@$(hostname); sha256sum /root/big.bin | cut -c1-64; cat /srv/tree/a.txt; stat -c %s /srv/tree/sub/b.bin');
        expect(check.stdout).toBe(`root@${host.replace('hangar.', '')}\n${sum}\nalpha\n${3 * 2 ** 20}\n`);
        const back = path.join(home, `back-${host}`);
        expect((await run(['scp', '-q', ...sshOpts(), `${host}:/root/big.bin`, back], { env, timeoutMs: 120_000 })).code).toBe(0);
        expect(fs.readFileSync(back).equals(fs.readFileSync(big))).toBe(true);
      }
      // A changed host key is refused by OpenSSH itself (StrictHostKeyChecking against Hangar's known_hosts).
      const khFile = path.join(home, 'cfg', 'hangar', 'known_hosts');
      const saved = fs.readFileSync(khFile, 'utf8');
      const other = (await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-f', path.join(home, 'fake-host')])).code === 0;
      expect(other).toBe(true);
      const fakeLine = fs.readFileSync(path.join(home, 'fake-host.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
      fs.writeFileSync(khFile, saved.replace(/^hangar\.ct-ssh .*$/m, `hangar.ct-ssh ${fakeLine}`));
      const spoofed = await ssh('hangar.ct-ssh', 'true');
      expect(spoofed.code).toBe(255);
      expect(spoofed.stderr).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key verification failed/);
      fs.writeFileSync(khFile, saved);
    }, 300_000);

    it('refuses tunnels to a machine without sshd or out of reach (nothing told of others), audits each, and a revoked grant closes one', async () => {
      const { api } = ctx();
      // Someone else's machine and a missing one look the same to the member.
      const other = await run(['ssh', ...sshOpts(), 'hangar.no-such-machine', 'true'], { env, timeoutMs: 30_000 });
      expect(other.code).toBe(255);
      expect(other.stderr).toContain('hangar: Machine "no-such-machine" not found.');
      const app = await finished(await api.machines.create({ name: 'ct-nossh', image: 'debian-12', driver: 'nspawn', command: ['sleep', '300'] }), 60_000);
      expect(app.error).toBeNull();
      await api.grants.put('ct-nossh', { username: 'sshuser', role: 'operator' });
      await expect(member.ssh.tunnel('ct-nossh')).rejects.toMatchObject({ status: 409, message: /no SSH server/ });
      const refused = await run([process.execPath, 'dist/cli.js', 'ssh', '--stdio', 'hangar.ct-nossh'], { env, input: '', timeoutMs: 30_000 });
      expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining('no SSH server') });
      await finished(await api.machines.destroy('ct-nossh'));

      // An open session, then the grant goes: the tunnel closes at once and the key leaves the guest.
      const child = spawn('ssh', [...sshOpts(), 'hangar.ct-ssh', 'echo open; sleep 120'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (out += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
      await until(() => out.includes('open'), 'the session to open', 30_000);
      const t0 = Date.now();
      await api.grants.remove('ct-ssh', memberId);
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still open'), 15_000))]);
      if (code === 'still open') child.kill('SIGKILL');
      expect(code).toBe(255);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(err).toContain('Your access to this machine was taken away.');
      await until(
        async () => !(await api.machines.exec('ct-ssh', ['cat', '/root/.ssh/authorized_keys'])).stdout.includes('sshuser@hangar'),
        'the key to leave',
        15_000,
        200,
      );
      expect((await ssh('hangar.ct-ssh', 'true')).stderr).toContain('hangar: Machine "ct-ssh" not found.');
      // Still given the VM: its tunnel works.
      expect((await ssh(`hangar.${(await api.machines.get(ctx().vm)).name}`, 'true')).code).toBe(0);

      const events = (await api.audit.list({ action: 'ssh.tunnel.close', limit: 200 })).items;
      expect(events.length).toBeGreaterThanOrEqual(6);
      expect(events.some((e) => e.actorName === 'sshuser' && (e.detail as { why?: string }).why === 'Your access to this machine was taken away.')).toBe(true);
      expect((await api.audit.list({ action: 'ssh.tunnel.open', limit: 200 })).items.every((e) => e.actorName === 'sshuser')).toBe(true);

      // Removing the key takes it out of the machines it was in.
      const k = (await member.sshKeys.list()).items[0];
      expect((await cli(['keys', 'rm', k.id])).code).toBe(0);
      await until(
        async () => (await ssh(`hangar.${(await api.machines.get(ctx().vm)).name}`, 'true')).code === 255,
        'the VM to refuse the removed key',
        15_000,
        300,
      );
      await finished(await api.machines.destroy('ct-ssh'));
    }, 180_000);
  });
}
