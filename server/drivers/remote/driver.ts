import fs from 'node:fs';
import path from 'node:path';
import ssh2 from 'ssh2';
import { logConsole } from '../shared/log-console';
import { sshExec, sshExecStream, sshShell, type SshTarget } from '../ssh';
import type { AdoptTarget, DriverResult, MachineCounters, MachineDriver, MachineSpec, StreamIo } from '../types';
import { describeRemote, NOT_OURS, remoteFacts } from './describe';
import { JournalFollower } from './journal';
import { StatsReader } from './stats';
import { remoteRuntime } from './runtime';

/** What an adopted machine says about itself at adopt: the login's proof that a command runs. */
const ABOUT = `. /etc/os-release 2>/dev/null
echo "\${PRETTY_NAME:-unknown}"
uname -sr
nproc 2>/dev/null || echo 0
awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo 2>/dev/null || echo 0`;

const files = (m: Pick<MachineSpec, 'dir'>) => ({
  key: path.join(m.dir, 'id'),
  passphrase: path.join(m.dir, 'id.passphrase'),
  knownHost: path.join(m.dir, 'known_host'),
  log: path.join(m.dir, 'journal.log'),
  since: path.join(m.dir, 'journal.since'),
});

/**
 * Machines Hangar does not run, reached over SSH with the key they were adopted with (kept 0600 in
 * the machine's dir) and the host key pinned at adopt. Destroy forgets: the record and the key go,
 * the machine itself is never touched.
 */
export class RemoteDriver implements MachineDriver {
  readonly kind = 'ssh' as const;
  readonly snapshotFiles = { checked: [], bulk: [] };
  readonly branchesBesideRunning = true;
  readonly describe = describeRemote;
  readonly facts = remoteFacts;
  /** Each adopted machine's journal, followed while this server runs. */
  private readonly followers = new Map<string, JournalFollower>();
  /** Each watched machine's /proc figures, over one SSH connection of its own (stats.ts). */
  private readonly readers = new Map<string, StatsReader>();

  readonly adopt = {
    adopt: (m: MachineSpec, target: AdoptTarget) => this.adoptOne(m, target),
  };

  private target(m: MachineSpec, pinned = true): SshTarget {
    const rt = remoteRuntime(m.runtime);
    if (!rt.host || !rt.user || !rt.port) throw new Error('This adopted machine has no SSH address in its record.');
    const f = files(m);
    return { host: rt.host, port: rt.port, user: rt.user, keyFile: f.key, passphraseFile: f.passphrase, knownHostFile: f.knownHost, settled: true, pinned };
  }

  private async adoptOne(m: MachineSpec, t: AdoptTarget): Promise<DriverResult> {
    // A key with a passphrase: opened with it here first, so a wrong or missing one is said before anything is written.
    const locked = ssh2.utils.parseKey(t.privateKey);
    const encrypted = locked instanceof Error && /passphrase/i.test(locked.message);
    if (encrypted && !t.passphrase)
      throw new Error('The key is protected by a passphrase: give it (hangar adopt --passphrase-file FILE, or Passphrase in the form).');
    const parsed = encrypted ? ssh2.utils.parseKey(t.privateKey, t.passphrase) : locked;
    if (parsed instanceof Error && encrypted) throw new Error(`The passphrase does not open the key (${parsed.message}).`);
    if (parsed instanceof Error) throw new Error(`The key is not a private key SSH can use: ${parsed.message}.`);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!key?.isPrivateKey()) throw new Error('The key is a public key: give the private one (--key FILE).');
    const f = files(m);
    fs.mkdirSync(m.dir, { recursive: true, mode: 0o700 });
    try {
      fs.writeFileSync(f.key, t.privateKey.endsWith('\n') ? t.privateKey : `${t.privateKey}\n`, { mode: 0o600 });
      if (encrypted) fs.writeFileSync(f.passphrase, t.passphrase!, { mode: 0o600 });
      fs.rmSync(f.knownHost, { force: true });
      const target: SshTarget = {
        host: t.host,
        port: t.port,
        user: t.user,
        keyFile: f.key,
        passphraseFile: f.passphrase,
        knownHostFile: f.knownHost,
        settled: true,
      };
      const r = await sshExec(target, ['sh', '-c', ABOUT], 10_000);
      if (r.code !== 0) throw new Error(`logged in, but a command failed there (exit ${r.code}): ${(r.stderr || r.stdout).trim().slice(-300)}`);
      const [os = 'unknown', kernel = '', cpus = '0', mem = '0'] = r.stdout.split('\n').map((l) => l.trim());
      const pin = fs.readFileSync(f.knownHost, 'utf8').trim();
      const runtime = {
        host: t.host,
        port: t.port,
        user: t.user,
        os,
        kernel,
        cpus: Number.parseInt(cpus, 10) || 0,
        memoryMib: Number.parseInt(mem, 10) || 0,
      };
      this.follow({ ...m, runtime });
      return {
        runtime,
        log: [
          `logged in as ${t.user}@${t.host}:${t.port}; host key pinned (SHA256:${pin.replace(/=+$/, '')})`,
          `it runs ${os} (${kernel}), ${runtime.cpus} CPUs, ${runtime.memoryMib} MiB`,
        ],
      };
    } catch (err) {
      fs.rmSync(m.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Its journal followed into its dir, from now until it is forgotten (idempotent). */
  private follow(m: MachineSpec): void {
    if (this.followers.has(m.id) || !fs.existsSync(m.dir)) return;
    const f = files(m);
    this.followers.set(m.id, new JournalFollower(this.target(m), { log: f.log, since: f.since }));
  }

  create(): Promise<DriverResult> {
    return Promise.reject(new Error(describeRemote(null).create.reason!));
  }

  private notOurs(): Promise<never> {
    return Promise.reject(new Error(describeRemote(null).power.reason!));
  }

  start = () => this.notOurs();
  stop = () => this.notOurs();
  pause = () => this.notOurs();
  resume = () => this.notOurs();

  /** Its power is its own: as far as Hangar knows, it runs (exec and the console say otherwise when it does not answer). */
  isRunning(m: MachineSpec): boolean {
    this.follow(m);
    return true;
  }

  isReady(): boolean {
    return true;
  }

  status(m: MachineSpec): Promise<'running'> {
    this.follow(m);
    return Promise.resolve('running');
  }

  openConsole(m: MachineSpec) {
    this.follow(m);
    // Read only: what is typed into a journal goes nowhere.
    return logConsole({ serialLog: files(m).log }, () => (fs.existsSync(m.dir) ? m.dir : null));
  }

  consoleLog(m: MachineSpec): string {
    this.follow(m);
    return files(m).log;
  }

  openShell(m: MachineSpec, cols: number, rows: number) {
    return sshShell(this.target(m), cols, rows);
  }

  exec(m: MachineSpec, argv: string[], opts: { timeoutMs: number }) {
    return sshExec(this.target(m), argv, opts.timeoutMs);
  }

  execStream(m: MachineSpec, argv: string[], io: StreamIo) {
    return sshExecStream(this.target(m), argv, io);
  }

  /** Forget: its key, pin and journal go with its dir; the machine is not touched. */
  destroy(m: MachineSpec): Promise<void> {
    this.followers.get(m.id)?.stop();
    this.followers.delete(m.id);
    this.readers.get(m.id)?.stop();
    this.readers.delete(m.id);
    fs.rmSync(m.dir, { recursive: true, force: true });
    return Promise.resolve();
  }

  checkpoint(): Promise<never> {
    return Promise.reject(new Error(`Checkpoint ${NOT_OURS}.`));
  }

  snapshotRecord(): Record<string, unknown> {
    return {};
  }

  branch(): Promise<never> {
    return Promise.reject(new Error(`Fork and restore ${NOT_OURS}.`));
  }

  layersOf(): string[] {
    return [];
  }

  chainOf(): string[] {
    return [];
  }

  repair(): Promise<null> {
    return Promise.resolve(null);
  }

  fixup(): Promise<void> {
    return Promise.reject(new Error(`Fork and restore ${NOT_OURS}.`));
  }

  /** Its /proc figures (CPU of all its CPUs, memory, network, disks), read over one SSH connection kept while someone watches. */
  stats(m: MachineSpec): Promise<MachineCounters | null> {
    if (!fs.existsSync(m.dir)) return Promise.resolve(null);
    let r = this.readers.get(m.id);
    if (!r) this.readers.set(m.id, (r = new StatsReader(this.target(m))));
    return Promise.resolve(r.read());
  }
}
