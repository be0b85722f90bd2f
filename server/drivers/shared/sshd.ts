import type { ExecResult, MachineSpec } from '../types';

/**
 * Users' keys in a Debian guest's /root/.ssh/authorized_keys: one block between markers, rewritten
 * whole each time (the lines outside it, such as the machine's own key Hangar logs in with, kept).
 * The keys come as arguments, never as shell text; the file is replaced by a rename (no half file).
 */
export const AUTHORIZED_KEYS_SCRIPT = `set -e
f=/root/.ssh/authorized_keys
install -d -m 700 /root/.ssh
touch "$f"
tmp="$f.hangar.$$"
awk '/^# hangar users: begin/{skip=1} !skip{print} /^# hangar users: end/{skip=0}' "$f" > "$tmp"
if [ "$#" -gt 0 ]; then
  echo "# hangar users: begin (written by Hangar: the keys of the users who may operate this machine)" >> "$tmp"
  for k in "$@"; do printf '%s\\n' "$k" >> "$tmp"; done
  echo "# hangar users: end" >> "$tmp"
fi
chmod 600 "$tmp"
mv "$tmp" "$f"
`;

/** A guest without systemd's ssh.service (a container) still needs a host key for sshd in inetd mode, and its privilege separation dir. */
export const SSHD_PREPARE_SCRIPT = `set -e
test -s /etc/ssh/ssh_host_ed25519_key || ssh-keygen -q -t ed25519 -N "" -f /etc/ssh/ssh_host_ed25519_key
install -d -m 755 /run/sshd
`;

/** The lines of the guest's host public keys, "TYPE BASE64" each. */
export const HOST_KEYS_ARGV = ['sh', '-c', 'cat /etc/ssh/ssh_host_*_key.pub 2>/dev/null || true'];

export function hostKeyLines(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/).slice(0, 2))
    .filter(([t, b]) => /^(ssh-|ecdsa-)[a-z0-9-]+$/.test(t ?? '') && /^[A-Za-z0-9+/=]+$/.test(b ?? ''))
    .map(([t, b]) => `${t} ${b}`);
}

type Exec = (m: MachineSpec, argv: string[], opts: { timeoutMs: number }) => Promise<ExecResult>;

/** Write the keys into the guest through the driver's own exec; throws with the guest's error. */
export async function writeAuthorizedKeys(exec: Exec, m: MachineSpec, keys: string[], prepare = false): Promise<void> {
  const script = prepare ? SSHD_PREPARE_SCRIPT + AUTHORIZED_KEYS_SCRIPT : AUTHORIZED_KEYS_SCRIPT;
  const r = await exec(m, ['sh', '-c', script, 'hangar-keys', ...keys], { timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`authorized_keys not written: ${(r.stderr || r.stdout).trim().split('\n').pop() ?? `exit ${r.code}`}`);
}

export async function readHostKeys(exec: Exec, m: MachineSpec, prepare = false): Promise<string[]> {
  if (prepare) await exec(m, ['sh', '-c', SSHD_PREPARE_SCRIPT], { timeoutMs: 30_000 });
  const r = await exec(m, HOST_KEYS_ARGV, { timeoutMs: 30_000 });
  return hostKeyLines(r.stdout);
}
