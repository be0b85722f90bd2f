import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** What Hangar keeps of an OCI image's config (the `config` object of the config blob). */
export const ociImageConfigSchema = z.object({
  Entrypoint: z.array(z.string()).nullable().optional(),
  Cmd: z.array(z.string()).nullable().optional(),
  Env: z.array(z.string()).nullable().optional(),
  WorkingDir: z.string().optional(),
  User: z.string().optional(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullable().optional(),
  Labels: z.record(z.string(), z.string()).nullable().optional(),
});
export type OciImageConfig = z.infer<typeof ociImageConfigSchema>;

/** The kept fields of a config blob; anything else (history, rootfs) stays in the store. */
export function keptConfig(blob: Record<string, unknown>): OciImageConfig {
  const c = ociImageConfigSchema.safeParse(blob.config ?? {});
  if (!c.success) return {};
  const { Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts, Labels } = c.data;
  return {
    Entrypoint: Entrypoint ?? null,
    Cmd: Cmd ?? null,
    Env: Env ?? [],
    WorkingDir: WorkingDir ?? '',
    User: User ?? '',
    ExposedPorts: ExposedPorts ?? {},
    Labels: Labels ?? {},
  };
}

/** How the container's process runs: numbers, so nspawn needs no getent inside the image. */
export const ociProcessSchema = z.object({
  env: z.array(z.string()),
  cwd: z.string(),
  uid: z.number().int().nonnegative(),
  gid: z.number().int().nonnegative(),
  gids: z.array(z.number().int().nonnegative()),
});
export type OciProcess = z.infer<typeof ociProcessSchema>;

/**
 * A file of the image as the container would see it, read from the layers top down without
 * following any symlink (a link could point out of the image onto the host): a whiteout, a
 * symlink or a missing file gives null.
 */
export function readImageFile(layers: string[], rel: string, maxBytes = 1 << 20): string | null {
  const parts = rel.split('/').filter(Boolean);
  for (const layer of [...layers].reverse()) {
    let cur = layer;
    for (let i = 0; i < parts.length; i++) {
      const p = path.join(cur, parts[i]);
      let st: fs.Stats;
      try {
        st = fs.lstatSync(p);
      } catch {
        break;
      }
      // A whiteout (char 0/0) hides whatever lower layers have.
      if (st.isCharacterDevice() && st.rdev === 0) return null;
      if (i === parts.length - 1) return st.isFile() && st.size <= maxBytes ? fs.readFileSync(p, 'utf8') : null;
      if (!st.isDirectory()) return null;
      cur = p;
    }
  }
  return null;
}

const table = (text: string | null) =>
  (text ?? '')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(':'));

/**
 * OCI `User` ("", "uid", "uid:gid", "name", "name:group") as numbers, from the image's own
 * /etc/passwd and /etc/group; with the user's groups and home directory.
 */
export function resolveUser(user: string, layers: string[]): { uid: number; gid: number; gids: number[]; home: string | null } {
  const [u = '', g] = user.split(':');
  const passwd = table(readImageFile(layers, 'etc/passwd'));
  const groups = table(readImageFile(layers, 'etc/group'));
  const num = (s: string) => (/^\d+$/.test(s) ? Number(s) : null);
  let uid = 0;
  let gid = 0;
  let name: string | null = u === '' ? 'root' : null;
  let home: string | null = null;
  const byId = num(u);
  const entry = byId !== null ? passwd.find((p) => Number(p[2]) === byId) : passwd.find((p) => p[0] === (u || 'root'));
  if (byId !== null) {
    uid = byId;
    gid = entry ? Number(entry[3]) : byId === 0 ? 0 : byId;
  } else if (entry) {
    uid = Number(entry[2]);
    gid = Number(entry[3]);
  } else if (u !== '') throw new Error(`user "${u}" is not in the image's /etc/passwd`);
  if (entry) {
    name = entry[0];
    home = entry[5] || null;
  }
  if (g !== undefined && g !== '') {
    const gnum = num(g);
    const ge = gnum === null ? groups.find((x) => x[0] === g) : null;
    if (gnum === null && !ge) throw new Error(`group "${g}" is not in the image's /etc/group`);
    gid = gnum ?? Number(ge![2]);
  }
  const gids = new Set([gid]);
  if (name && g === undefined) for (const x of groups) if ((x[3] ?? '').split(',').includes(name)) gids.add(Number(x[2]));
  return { uid, gid, gids: [...gids].filter((n) => Number.isInteger(n)), home };
}

const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** What runs, as docker reads it: the image's Entrypoint and Cmd, the command replacing Cmd, an entrypoint replacing both. */
export function ociArgv(config: OciImageConfig, command: string[] | null, entrypoint: string[] | null = null): string[] {
  const given = command && command.length ? command : null;
  const argv = entrypoint?.length ? [...entrypoint, ...(given ?? [])] : [...(config.Entrypoint ?? []), ...(given ?? config.Cmd ?? [])];
  if (argv.length === 0) throw new Error('The image has no Entrypoint or Cmd: give a command (hangar run IMAGE -- CMD).');
  return argv;
}

/**
 * The process of a container of this image: its argv (Entrypoint + the given command or Cmd; an entrypoint given replaces
 * both, docker's --entrypoint), Env, WorkingDir and User.
 */
export function ociProcess(
  config: OciImageConfig,
  layers: string[],
  command: string[] | null,
  entrypoint: string[] | null = null,
): { argv: string[]; process: OciProcess } {
  const argv = ociArgv(config, command, entrypoint);
  const who = resolveUser(config.User ?? '', layers);
  const env = [...(config.Env ?? [])];
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  if (!env.some((e) => e.startsWith('HOME='))) env.push(`HOME=${who.home ?? '/'}`);
  const cwd = path.posix.normalize(`/${config.WorkingDir || '/'}`);
  return { argv, process: { env, cwd, uid: who.uid, gid: who.gid, gids: who.gids } };
}

/**
 * The OCI runtime bundle nspawn reads (--oci-bundle): its config.json. Without `linux.resources`
 * (nspawn would then want D-Bus and exit 1 without a word) and without the args, which nspawn
 * ignores under --as-pid2 (the command goes after `--`). The network namespace only when the
 * container has its own network.
 */
export function writeBundle(dir: string, o: { shim: string; hostname: string; process: OciProcess; argv: string[]; ownNetwork: boolean }): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ns = ['pid', 'ipc', 'uts', 'mount', ...(o.ownNetwork ? ['network'] : [])].map((type) => ({ type }));
  const config = {
    ociVersion: '1.0.0',
    root: { path: o.shim },
    hostname: o.hostname,
    process: {
      terminal: false,
      user: { uid: o.process.uid, gid: o.process.gid, additionalGids: o.process.gids },
      args: o.argv,
      env: o.process.env,
      cwd: o.process.cwd,
    },
    linux: { namespaces: ns },
  };
  fs.writeFileSync(path.join(dir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
}

/** The image's layers hold systemd as its init (a system image: Debian, Fedora), so it can boot as an OS container. */
export function hasSystemd(layers: string[]): boolean {
  return layers.some((l) => ['lib/systemd/systemd', 'usr/lib/systemd/systemd'].some((f) => fs.existsSync(path.join(l, f))));
}

/**
 * What an OCI image's container runs when Hangar execs into it (a step chain's base, a probe): nothing
 * but waiting, whatever its own entrypoint does (a server, or a command that ends). Its sh is needed.
 */
export const OCI_KEEPALIVE = ['/bin/sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];
