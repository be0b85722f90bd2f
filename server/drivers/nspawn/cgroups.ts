import fs from 'node:fs';
import path from 'node:path';

/**
 * The container's own cgroups: unified (pure v2, or hybrid's /unified) first, then the v1
 * name=systemd hierarchy where there is one. nspawn puts its payload below its own cgroup, so
 * each container needs one of its own (else two would share `payload`); the freezer is the
 * unified one's `cgroup.freeze`.
 */
export function cgroupDirs(machineId: string): { unified: string | null; all: string[] } {
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : fs.existsSync('/sys/fs/cgroup/unified/cgroup.procs') ? '/sys/fs/cgroup/unified' : null;
  const v1 = fs.existsSync('/sys/fs/cgroup/systemd/cgroup.procs') ? '/sys/fs/cgroup/systemd' : null;
  const unified = v2 ? path.join(v2, 'hangar', machineId) : null;
  return { unified, all: [unified, v1 && path.join(v1, 'hangar', machineId)].filter((d): d is string => !!d) };
}

/** `sh` moves itself into each cgroup dir before exec'ing the command, so all it starts is in them. */
export const ENTER_CGROUPS = 'while [ "$1" != -- ]; do echo $$ > "$1/cgroup.procs" || exit 111; shift; done; shift; exec "$@"';

/** Every process of the container, nspawn included (cgroup.kill, else SIGKILL to each pid listed). */
export function killCgroup(machineId: string, nspawnPid?: number): void {
  const cg = cgroupDirs(machineId).unified;
  try {
    if (cg && fs.existsSync(path.join(cg, 'cgroup.kill'))) return fs.writeFileSync(path.join(cg, 'cgroup.kill'), '1');
  } catch {
    // fall through to killing pid by pid
  }
  const pids = new Set<number>(nspawnPid ? [nspawnPid] : []);
  const walk = (dir: string) => {
    try {
      for (const p of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) pids.add(Number(p));
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(path.join(dir, e.name));
    } catch {
      // gone
    }
  };
  for (const g of cgroupDirs(machineId).all) walk(g);
  for (const p of pids) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}

/** Some process is still in this cgroup or below. */
export function busy(dir: string): boolean {
  try {
    if (fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim()) return true;
    return fs.readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && busy(path.join(dir, e.name)));
  } catch {
    return false;
  }
}

/** A cgroup and the ones systemd made below it, deepest first (rmdir works only on empty cgroups). */
export function removeCgroup(dir: string): void {
  let subs: fs.Dirent[];
  try {
    subs = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of subs) if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // still in use, or gone
  }
}
