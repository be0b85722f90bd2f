import { firstLine, run } from '../exec';
import type { LiveVolumes } from '../shared/volumes';
import type { MachineSpec } from '../types';
import { initOf } from './inside';

/** Syscall numbers of setns and umount2 (open_tree and move_mount are the same on every architecture). */
const CALLS: Partial<Record<string, [number, number]>> = { x64: [308, 166], arm64: [268, 39] };

/**
 * What `machinectl bind --mkdir` does, for containers machined does not know (`--register=no`)
 * and hosts whose /run does not propagate mounts: the host directory cloned as a detached mount
 * (open_tree), then, in the container's mount namespace (its root: symlinks resolve inside it),
 * the guest path made and the clone moved there (move_mount). Perl (Debian's essential perl-base)
 * makes the calls: nothing runs from the container's own files.
 */
const BIND = String.raw`
use strict;
my ($setns, $umount, $pid, $src, $dst) = @ARGV;
my $fd = syscall(428, -100, $src, 1 | 0x80000 | 0x8000);
die "cloning the volume's mount failed: $!\n" if $fd < 0;
open(my $ns, '<', "/proc/$pid/ns/mnt") or die "the container's mount namespace: $!\n";
syscall($setns + 0, fileno($ns), 0x20000) == 0 or die "entering the container failed: $!\n";
chdir('/') or die "chdir: $!\n";
my $p = '';
for my $part (grep { length } split m{/}, $dst) { $p .= "/$part"; mkdir($p, 0755) unless -d $p; }
-d $dst or die "$dst is not a directory in the container\n";
my $empty = '';
syscall(429, $fd, $empty, -100, $dst, 4) == 0 or die "mounting at $dst failed: $!\n";
`;

/** The same way in, then the mount at the guest path detached (lazily: a process with a file open there keeps it until it lets go). */
const UNBIND = String.raw`
use strict;
my ($setns, $umount, $pid, $dst) = @ARGV;
open(my $ns, '<', "/proc/$pid/ns/mnt") or die "the container's mount namespace: $!\n";
syscall($setns + 0, fileno($ns), 0x20000) == 0 or die "entering the container failed: $!\n";
chdir('/') or die "chdir: $!\n";
syscall($umount + 0, $dst, 2) == 0 or $!{EINVAL} or $!{ENOENT} or die "unmounting $dst failed: $!\n";
`;

const init = (m: MachineSpec): number => {
  const pid = initOf(m);
  if (!pid) throw new Error('the container is not running');
  return pid;
};

const calls = (): string[] => {
  const c = CALLS[process.arch];
  if (!c) throw new Error(`volumes cannot be bound into or out of a running container on ${process.arch}: stop it first`);
  return c.map(String);
};

/** nspawn volumes bound into and out of a running container. */
export const nspawnLiveVolumes: LiveVolumes = {
  async bind(m, host, guest) {
    const r = await run(['perl', '-e', BIND, ...calls(), String(init(m)), host, guest], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`binding the volume at ${guest} failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  },
  async unbind(m, guest) {
    const r = await run(['perl', '-e', UNBIND, ...calls(), String(init(m)), guest], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`unmounting ${guest} in the container failed: ${firstLine(r.stderr) || `exit ${r.code}`}`);
  },
};
