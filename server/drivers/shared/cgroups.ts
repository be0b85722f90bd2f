import fs from 'node:fs';
import path from 'node:path';
import { cgroupPids, parseProcCgroup, readText } from '../proc-stats';

/**
 * The container's own cgroups: unified (pure v2, or hybrid's /unified) first, then the v1
 * name=systemd hierarchy where there is one. nspawn puts its payload below its own cgroup, so
 * each container needs one of its own (else two would share `payload`); the freezer is the
 * unified one's `cgroup.freeze`.
 */
export function cgroupDirs(machineId: string): { unified: string | null; all: string[]; memory: string | null; cpu: string | null } {
  const r = roots();
  const at = (root: string | null) => (root ? path.join(root, 'hangar', machineId) : null);
  const unified = at(r.unified);
  const all = [unified, at(r.systemd), at(r.memory), at(r.cpu)].filter((d): d is string => !!d);
  return { unified, all: [...new Set(all)], memory: at(r.memory), cpu: at(r.cpu) };
}

let found: { unified: string | null; systemd: string | null; memory: string | null; cpu: string | null } | null = null;

/**
 * The hierarchies, found once (they do not change while Hangar runs; callers poll cgroupDirs every
 * 20 ms while a container stops). Limits go in the unified hierarchy when it has the controller
 * (pure v2), else in v1's (hybrid hosts).
 */
function roots() {
  if (found) return found;
  const has = (d: string) => fs.existsSync(path.join(d, 'cgroup.procs'));
  const v2 = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? '/sys/fs/cgroup' : has('/sys/fs/cgroup/unified') ? '/sys/fs/cgroup/unified' : null;
  const hasV2 = (c: string) => !!v2 && (readText(path.join(v2, 'cgroup.controllers')) ?? '').split(/\s+/).includes(c);
  const v1 = (...names: string[]) => names.map((n) => `/sys/fs/cgroup/${n}`).find(has) ?? null;
  found = { unified: v2, systemd: v1('systemd'), memory: hasV2('memory') ? v2 : v1('memory'), cpu: hasV2('cpu') ? v2 : v1('cpu', 'cpu,cpuacct') };
  return found;
}

/** The cgroup dirs (unified, memory, cpu) a process is in, from /proc/PID/cgroup and the hierarchies' mount points. */
export function cgroupDirsOfPid(pid: number): { unified: string | null; memory: string | null; cpu: string | null } {
  const r = roots();
  const own = parseProcCgroup(readText(`/proc/${pid}/cgroup`) ?? '');
  const at = (root: string | null, controller: string) => {
    // A controller on the unified hierarchy (pure v2) is listed under '', not by name.
    const rel = root && root === r.unified ? own.get('') : own.get(controller);
    return root && rel !== undefined ? path.join(root, rel) : null;
  };
  return { unified: at(r.unified, ''), memory: at(r.memory, 'memory'), cpu: at(r.cpu, 'cpu') };
}

/**
 * Memory and CPU limits on the container's cgroups, made if need be: memory.max / cpu.max on
 * pure cgroup v2 (the controllers enabled for Hangar's subtree), memory.limit_in_bytes and the
 * CFS quota on v1. A limit the host cannot set is reported, not silently skipped.
 */
export function applyLimits(machineId: string, limits: { memoryMib: number; cpus: number }): string[] {
  const d = cgroupDirs(machineId);
  const problems: string[] = [];
  const set = (file: string, value: string) => {
    try {
      fs.writeFileSync(file, value);
    } catch (err) {
      problems.push(`${path.basename(file)}: ${(err as Error).message}`);
    }
  };
  for (const g of d.all) fs.mkdirSync(g, { recursive: true });
  const bytes = String(limits.memoryMib * 1048576);
  if (!d.memory) problems.push('no memory controller');
  else if (d.memory === d.unified) {
    enableV2(path.dirname(path.dirname(d.memory)), ['memory', 'cpu'], problems);
    set(path.join(d.memory, 'memory.max'), bytes);
    set(path.join(d.memory, 'memory.swap.max'), '0');
  } else set(path.join(d.memory, 'memory.limit_in_bytes'), bytes);
  if (!d.cpu) problems.push('no cpu controller');
  else if (d.cpu === d.unified) set(path.join(d.cpu, 'cpu.max'), `${limits.cpus * 100000} 100000`);
  else {
    set(path.join(d.cpu, 'cpu.cfs_period_us'), '100000');
    set(path.join(d.cpu, 'cpu.cfs_quota_us'), String(limits.cpus * 100000));
  }
  return problems;
}

/** Controllers on for the cgroups below `root`/hangar (the root's subtree first, then hangar's). */
function enableV2(root: string, controllers: string[], problems: string[]): void {
  for (const dir of [root, path.join(root, 'hangar')]) {
    const on = (readText(path.join(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    for (const c of controllers.filter((x) => !on.includes(x))) {
      try {
        fs.writeFileSync(path.join(dir, 'cgroup.subtree_control'), `+${c}`);
      } catch (err) {
        problems.push(`enabling ${c} in ${dir}: ${(err as Error).message}`);
      }
    }
  }
}

/**
 * Where commands run into a running container (exec, the Shell tab) go: a `hangar-exec` cgroup
 * beside nspawn's payload in each of the container's hierarchies, so they count against its
 * memory and CPU limits and show in its figures (nsenter alone joins namespaces, not cgroups). A
 * leaf of its own, as cgroup v2 allows processes only in leaves once controllers are on below.
 * Hierarchies where it cannot be made are left out.
 */
export function execCgroups(machineId: string): string[] {
  const out: string[] = [];
  for (const dir of cgroupDirs(machineId).all) {
    const leaf = path.join(dir, 'hangar-exec');
    try {
      fs.mkdirSync(leaf, { recursive: true });
      out.push(leaf);
    } catch {
      // that hierarchy keeps exec'd commands where Hangar runs
    }
  }
  return out;
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
  const pids = new Set<number>([...(nspawnPid ? [nspawnPid] : []), ...cgroupDirs(machineId).all.flatMap(cgroupPids)]);
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
