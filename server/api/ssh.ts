import { idParams, listOf } from '@/lib/contracts/common';
import { addSshKeyBodySchema, sshHostKeysSchema, sshHostSchema, sshKeySchema, sshTunnelInfoSchema } from '@/lib/contracts/ssh-keys';
import { pageOf } from '@/server/core/paging';
import { defineRoute, refParams } from './route';

/** Your SSH keys, and OpenSSH through Hangar (the tunnel itself is a websocket upgrade on /machines/{ref}/ssh-tunnel, see http.ts). */
export const sshRoutes = [
  defineRoute({
    method: 'get',
    path: '/ssh-keys',
    name: 'listSshKeys',
    tag: 'ssh',
    summary: 'Your SSH public keys, oldest first',
    access: 'member',
    list: {},
    response: listOf(sshKeySchema),
    handler: async ({ core, principal, page }) => pageOf(await core.sshKeys.list(principal), page, (k) => `${String(k.createdAt).padStart(15, '0')}:${k.id}`),
  }),
  defineRoute({
    method: 'post',
    path: '/ssh-keys',
    name: 'addSshKey',
    tag: 'ssh',
    summary: 'Add an SSH public key (ed25519, RSA of 2048 bits or more, ECDSA); machines you may operate let it in',
    access: 'member',
    status: 201,
    body: addSshKeyBodySchema,
    response: sshKeySchema,
    errors: [409],
    handler: async ({ core, principal, body, ip }) => {
      const k = await core.sshKeys.add(principal, body);
      await core.audit.record(principal, {
        action: 'ssh-key.add',
        target: { kind: 'ssh-key', id: k.id },
        ip,
        detail: { fingerprint: k.fingerprint, name: k.name },
      });
      return k;
    },
  }),
  defineRoute({
    method: 'delete',
    path: '/ssh-keys/{id}',
    name: 'removeSshKey',
    tag: 'ssh',
    summary: 'Remove one of your SSH keys (machines stop letting it in)',
    access: 'member',
    params: idParams,
    response: sshKeySchema,
    handler: async ({ core, principal, params, ip }) => {
      const k = await core.sshKeys.remove(principal, params.id);
      await core.audit.record(principal, { action: 'ssh-key.remove', target: { kind: 'ssh-key', id: k.id }, ip, detail: { fingerprint: k.fingerprint } });
      return k;
    },
  }),
  defineRoute({
    method: 'get',
    path: '/ssh/hosts',
    name: 'listSshHosts',
    tag: 'ssh',
    summary: 'Machines you may reach with OpenSSH through Hangar (operate access, an SSH server), by name',
    access: 'member',
    list: {},
    response: listOf(sshHostSchema),
    handler: async ({ core, principal, page }) => pageOf(await core.ssh.hosts(principal), page, (h) => h.name),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/ssh-host-keys',
    // Rows only: any node answers.
    owner: 'any',
    name: 'getMachineSshHostKeys',
    tag: 'ssh',
    summary: "A running machine's SSH host keys (for a known_hosts file) and its login user",
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    response: sshHostKeysSchema,
    errors: [409],
    handler: async ({ core, principal, machine }) => core.ssh.hostKeys(principal, machine.id),
  }),
  defineRoute({
    method: 'get',
    path: '/machines/{ref}/ssh-tunnel',
    name: 'getMachineSshTunnel',
    tag: 'ssh',
    summary:
      "A raw byte stream to the machine's sshd: open with a websocket upgrade (Authorization: Bearer TOKEN). Binary frames carry " +
      'the bytes both ways; a text frame "eof" half-closes its direction. Without an upgrade: what it would reach, or why not.',
    access: 'operator',
    machineGrant: 'operator',
    params: refParams,
    response: sshTunnelInfoSchema,
    errors: [409],
    handler: async ({ core, principal, machine }) => {
      const m = await core.ssh.reachable(principal, machine.id);
      return { machine: m.name, user: core.machines.driver(m.driver).sshd?.user ?? 'root', protocol: 'hangar-ssh-tunnel.v1' as const };
    },
  }),
];
