import { modulePlay, runPlaybook } from './ansible-step';

/**
 * What the catalog's steps do to a machine (lib/steps/catalog.ts has their names, versions and
 * argument schemas). A step gets a StepMachine and its checked arguments; a failing command
 * fails the step with its output. User steps get the same StepMachine.
 */
export interface StepMachine {
  readonly name: string;
  readonly driver: 'qemu' | 'nspawn' | 'podman' | 'ssh';
  /** Run argv; a non-zero exit throws with the command's output. */
  exec(argv: string[], timeoutS?: number): Promise<{ stdout: string; stderr: string }>;
  /** Run argv and get its exit code whatever it is (the Ansible bridge passes it on); built-in steps only. */
  execRaw?(argv: string[], timeoutS?: number): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Upload: write a file (text or bytes), parent directories made, with a mode (default 644). */
  writeFile(path: string, content: string | Uint8Array, mode?: string): Promise<void>;
  /** Upload a directory: a gzipped tar unpacked into `path` (made if missing). */
  writeTree(path: string, targz: Uint8Array): Promise<void>;
  /** Download a file's bytes. */
  readFile(path: string): Promise<Buffer>;
  /** The serial console, pexpect style (a person watching the console sees it too). */
  readonly console: {
    send(data: string): Promise<void>;
    sendline(line: string): Promise<void>;
    /** Waits for text (or a RegExp) after the last match; returns the output up to it. */
    expect(pattern: string | RegExp, timeoutS?: number): Promise<string>;
  };
  /** Restart the machine and wait until it is ready again. */
  reboot(): Promise<void>;
  /** Run another step (built-in or user) here, its arguments checked by its schema. */
  apply(step: string, args?: Record<string, unknown>): Promise<void>;
  log(line: string): void;
  /** The build's: aborted when it is cancelled (a user step's process is ended then). */
  readonly signal?: AbortSignal;
}

type Run = (m: StepMachine, args: Record<string, unknown>) => Promise<void>;

const sh = (m: StepMachine, script: string, timeoutS = 600, ...args: string[]) => m.exec(['sh', '-c', script, 'step', ...args], timeoutS);
const logTail = (m: StepMachine, r: { stdout: string; stderr: string }, n = 20) => {
  for (const l of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean).slice(-n)) m.log(l);
};

/** apt-get from the image's mirror, quiet unless it fails (its last lines then say why). */
const aptInstall = (m: StepMachine, pkgs: string[]) =>
  // Package names are checked by the schema ([a-z0-9+.-]): passed as arguments, never parsed.
  sh(
    m,
    'export DEBIAN_FRONTEND=noninteractive; (apt-get update -q && apt-get install -y -q ' +
      '--no-install-recommends "$@") > /tmp/hangar-apt.log 2>&1; rc=$?; tail -5 /tmp/hangar-apt.log; exit ' +
      '$rc',
    1800,
    ...pkgs,
  );

export const STEP_RUNNERS: Record<string, Run> = {
  exec: async (m, a) => logTail(m, await m.exec(a.argv as string[], a.timeoutS as number)),
  sh: async (m, a) => logTail(m, await sh(m, a.script as string, a.timeoutS as number)),
  file: async (m, a) => {
    if (typeof a.archive === 'string') await m.writeTree(a.path as string, Buffer.from(a.archive, 'base64'));
    else await m.writeFile(a.path as string, a.content as string, a.mode as string);
  },
  apt: async (m, a) => logTail(m, await aptInstall(m, a.packages as string[]), 5),
  ansible: (m, a) => runPlaybook(m, modulePlay(a.module as string, a.args as Record<string, unknown>), a.timeoutS as number),
  'ansible-playbook': (m, a) => runPlaybook(m, a.playbook as string, a.timeoutS as number),
  service: async (m, a) => {
    await m.exec(['systemctl', 'enable', '--now', a.unit as string], 120);
    await m.exec(['systemctl', 'is-active', a.unit as string], 60);
  },
  user: async (m, a) => {
    await sh(m, 'id "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"', 60, a.name as string);
  },
  ssh: async (m, a) => {
    const user = a.user as string;
    const has = await sh(
      m,
      'command -v sshd >/dev/null || test -x /usr/sbin/sshd && echo yes || { command -v apt-get >/dev/null && echo apt || echo no; }',
      30,
    );
    if (has.stdout.trim() === 'no') throw new Error('no SSH server here and no apt-get to install one (busybox has none: use debian-12)');
    if (has.stdout.trim() === 'apt') logTail(m, await aptInstall(m, ['openssh-server']), 3);
    if (user !== 'root') await sh(m, 'id "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"', 60, user);
    if (typeof a.key === 'string') {
      await sh(
        m,
        'h=$(getent passwd "$1" | cut -d: -f6); mkdir -p "$h/.ssh" && touch "$h/.ssh/authorized_keys" && ' +
          '(grep -qxF "$2" "$h/.ssh/authorized_keys" || echo "$2" >> "$h/.ssh/authorized_keys") && chmod 700 ' +
          '"$h/.ssh" && chmod 600 "$h/.ssh/authorized_keys" && chown -R "$1:" "$h/.ssh"',
        30,
        user,
        a.key,
      );
    }
    // Host keys made here when missing (a fresh install makes them; an image may have had them removed).
    await sh(
      m,
      'ssh-keygen -A >/dev/null; if [ -d /run/systemd/system ]; then systemctl unmask ssh.service ' +
        '>/dev/null 2>&1; systemctl enable --now ssh.service; else /usr/sbin/sshd; fi',
      120,
    );
    const port = await sh(
      m,
      'i=0; while ! grep -q ":0016 [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; do i=$((i+1)); ' +
        '[ $i -gt 100 ] && exit 1; sleep 0.1; done; echo listening',
      30,
    );
    m.log(`sshd ${port.stdout.trim()} on port 22${typeof a.key === 'string' ? `; key ${String(a.key).split(' ').slice(0, 1).join('')}… for ${user}` : ''}`);
  },
  'wait-port': async (m, a) => {
    // /proc/net/tcp lists listening sockets (state 0A) with the port in hex: no tools needed in the guest.
    const hex = (a.port as number).toString(16).toUpperCase().padStart(4, '0');
    await sh(
      m,
      `i=0; while ! grep -q ":${hex} [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; do i=$((i+1)); [ $i -gt $1 ] && exit 1; sleep 0.2; done`,
      (a.timeoutS as number) + 30,
      String((a.timeoutS as number) * 5),
    );
  },
  probe: async (m, a) => {
    // curl where there is one, else wget (busybox has it; its -T crashes, so `timeout` bounds it); retried until it answers or time is up.
    const r = await sh(
      m,
      'end=$(( $(date +%s) + $2 )); while :; do if command -v curl >/dev/null; then out=$(curl -fsSL ' +
        '--max-time 10 "$1" 2>&1); else out=$(timeout 10 wget -q -O - "$1" 2>&1); fi; rc=$?; if [ $rc -eq 0 ' +
        '] && { [ -z "$3" ] || printf %s "$out" | grep -qF -- "$3"; }; then printf %s "$out" | head -c 300; ' +
        'exit 0; fi; [ $(date +%s) -ge $end ] && { echo "last answer (exit $rc): $(printf %s "$out" | head ' +
        '-c 300)"; exit 1; }; sleep 0.5; done',
      (a.timeoutS as number) + 30,
      a.url as string,
      String(a.timeoutS),
      (a.expect as string | undefined) ?? '',
    );
    m.log(`${a.url as string} answered${a.expect ? ` with "${a.expect as string}"` : ''}: ${r.stdout.split('\n')[0].slice(0, 120)}`);
  },
};
