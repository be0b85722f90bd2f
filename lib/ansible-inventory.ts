import type { Machine } from './contracts/machines';

/** Ansible's name for a machine: the same `hangar.NAME` that `hangar ssh-config` writes for OpenSSH. */
export const inventoryHost = (name: string): string => `hangar.${name}`;

/** Group names Ansible accepts without a warning: letters, digits and underscores. */
const group = (s: string) => s.replace(/[^A-Za-z0-9_]/g, '_');

export interface InventoryOptions {
  /** The command OpenSSH runs to reach a machine through the Hangar server (`%n`: the host name as given). */
  proxyCommand?: string;
}

/** What Ansible needs to reach one machine over SSH through Hangar's tunnel. */
export function hostVars(m: Pick<Machine, 'name' | 'driver' | 'state' | 'image' | 'tags'>, o: InventoryOptions = {}): Record<string, unknown> {
  const proxy = o.proxyCommand ?? 'hangar ssh --stdio %n';
  return {
    ansible_host: inventoryHost(m.name),
    ansible_user: 'root',
    ansible_connection: 'ssh',
    // Quoted for the shell Ansible splits these with (shlex): the ProxyCommand stays one option.
    ansible_ssh_common_args: `-o ProxyCommand="${proxy}" -o ServerAliveInterval=30`,
    hangar_name: m.name,
    hangar_driver: m.driver,
    hangar_state: m.state,
    hangar_image: m.image,
    hangar_tags: m.tags,
  };
}

/**
 * A dynamic inventory as Ansible's script plugin reads it (`--list`): every machine under the
 * group `hangar`, also grouped by driver (`driver_qemu`) and tag (`tag_web`), its variables in
 * `_meta.hostvars` (so Ansible does not call `--host` per machine).
 */
export function inventoryList(machines: Pick<Machine, 'name' | 'driver' | 'state' | 'image' | 'tags'>[], o: InventoryOptions = {}): Record<string, unknown> {
  const groups = new Map<string, string[]>();
  const add = (g: string, h: string) => groups.set(g, [...(groups.get(g) ?? []), h]);
  const hostvars: Record<string, unknown> = {};
  for (const m of [...machines].sort((a, b) => a.name.localeCompare(b.name))) {
    const h = inventoryHost(m.name);
    hostvars[h] = hostVars(m, o);
    add('hangar', h);
    add(group(`driver_${m.driver}`), h);
    add(group(`state_${m.state}`), h);
    for (const t of m.tags) add(group(`tag_${t}`), h);
  }
  const out: Record<string, unknown> = { _meta: { hostvars }, all: { children: ['ungrouped', ...[...groups.keys()].sort()] } };
  for (const [g, hosts] of groups) out[g] = { hosts };
  return out;
}
