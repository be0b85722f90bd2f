/**
 * What the catalog's steps do to a machine (lib/steps/catalog.ts has their names, versions and
 * argument schemas). A step gets a StepMachine and its checked arguments; a failing command
 * fails the step with its output.
 */
export interface StepMachine {
  readonly name: string;
  /** Run argv; a non-zero exit throws with the command's output. */
  exec(argv: string[], timeoutS?: number): Promise<{ stdout: string; stderr: string }>;
  /** Write a file (content as text), with a mode. */
  writeFile(path: string, content: string, mode: string): Promise<void>;
  /** Run another step (built-in or user) here, its arguments checked by its schema. */
  apply(step: string, args?: Record<string, unknown>): Promise<void>;
  log(line: string): void;
}

type Run = (m: StepMachine, args: Record<string, unknown>) => Promise<void>;

const sh = (m: StepMachine, script: string, timeoutS = 600) => m.exec(['sh', '-c', script], timeoutS);

export const STEP_RUNNERS: Record<string, Run> = {
  exec: async (m, a) => {
    const r = await m.exec(a.argv as string[], a.timeoutS as number);
    for (const l of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean).slice(-20)) m.log(l);
  },
  sh: async (m, a) => {
    const r = await sh(m, a.script as string, a.timeoutS as number);
    for (const l of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean).slice(-20)) m.log(l);
  },
  file: (m, a) => m.writeFile(a.path as string, a.content as string, a.mode as string),
  apt: async (m, a) => {
    // Package names are checked by the schema ([a-z0-9+.-]): safe as words of this script.
    const pkgs = (a.packages as string[]).join(' ');
    const r = await sh(m, `export DEBIAN_FRONTEND=noninteractive; (apt-get update -q && apt-get install -y -q --no-install-recommends ${pkgs}) > /tmp/hangar-apt.log 2>&1; rc=$?; tail -5 /tmp/hangar-apt.log; exit $rc`, 1800);
    for (const l of r.stdout.split('\n').filter(Boolean)) m.log(l);
  },
  service: async (m, a) => {
    await m.exec(['systemctl', 'enable', '--now', a.unit as string], 120);
    await m.exec(['systemctl', 'is-active', a.unit as string], 60);
  },
  user: async (m, a) => {
    await m.exec(['sh', '-c', 'id "$1" >/dev/null 2>&1 || useradd -m -s /bin/bash "$1"', 'user', a.name as string], 60);
  },
  'wait-port': async (m, a) => {
    // /proc/net/tcp lists listening sockets (state 0A) with the port in hex: no tools needed in the guest.
    const hex = (a.port as number).toString(16).toUpperCase().padStart(4, '0');
    await m.exec(['sh', '-c', `i=0; while ! grep -q ":${hex} [0-9A-F:]* 0A" /proc/net/tcp /proc/net/tcp6 2>/dev/null; do i=$((i+1)); [ $i -gt $1 ] && exit 1; sleep 0.2; done`, 'wait', String((a.timeoutS as number) * 5)], (a.timeoutS as number) + 30);
  },
};
