import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findStep } from '@/lib/steps/catalog';
import { hostVars, inventoryList } from '@/lib/ansible-inventory';

const web = { name: 'web-1', driver: 'qemu' as const, state: 'running' as const, image: 'debian-12', tags: ['web', 'blue-green'] };
const db = { name: 'db', driver: 'nspawn' as const, state: 'stopped' as const, image: 'debian-12', tags: [] };

describe('hangar ansible-inventory', () => {
  it('lists every machine as hangar.NAME with groups by driver, state and tag, and its vars in _meta', () => {
    const inv = inventoryList([web, db]);
    expect(inv).toMatchObject({
      hangar: { hosts: ['hangar.db', 'hangar.web-1'] },
      driver_qemu: { hosts: ['hangar.web-1'] },
      driver_nspawn: { hosts: ['hangar.db'] },
      state_running: { hosts: ['hangar.web-1'] },
      tag_web: { hosts: ['hangar.web-1'] },
      tag_blue_green: { hosts: ['hangar.web-1'] },
      all: { children: expect.arrayContaining(['ungrouped', 'hangar', 'tag_web']) },
    });
    const vars = (inv._meta as { hostvars: Record<string, Record<string, unknown>> }).hostvars['hangar.web-1'];
    expect(vars).toMatchObject({ ansible_host: 'hangar.web-1', ansible_user: 'root', hangar_driver: 'qemu' });
    expect(vars.ansible_ssh_common_args).toBe('-o ProxyCommand="hangar ssh --stdio %n" -o ServerAliveInterval=30');
    expect(hostVars(web, { proxyCommand: '/opt/hangar ssh --stdio %n' }).ansible_ssh_common_args).toContain('ProxyCommand="/opt/hangar ssh --stdio %n"');
    expect(inventoryList([])).toEqual({ _meta: { hostvars: {} }, all: { children: ['ungrouped'] } });
  });

  it('splits ansible_ssh_common_args the way Ansible does (shlex): the ProxyCommand is one argument', () => {
    const args = hostVars(web).ansible_ssh_common_args as string;
    const split = execFileSync('python3', ['-c', 'import shlex,sys,json; print(json.dumps(shlex.split(sys.argv[1])))', args], { encoding: 'utf8' });
    expect(JSON.parse(split)).toEqual(['-o', 'ProxyCommand=hangar ssh --stdio %n', '-o', 'ServerAliveInterval=30']);
  });
});

describe('the ansible steps', () => {
  it('turn command-line words into a module and its arguments, free-form words into _raw_params', () => {
    const s = findStep('ansible')!;
    expect(s.fromWords(['package', '--name=patch', '--state=present'])).toEqual({ module: 'package', args: { name: 'patch', state: 'present' } });
    expect(s.fromWords(['command', '--', 'uname', '-r'])).toEqual({ module: 'command', args: { _raw_params: 'uname -r' } });
    expect(s.schema.safeParse({ module: 'ansible.builtin.copy', args: { dest: '/x', content: 'y' } }).success).toBe(true);
    expect(s.schema.safeParse({ module: 'rm -rf /', args: {} }).success).toBe(false);
    expect(s.schema.safeParse({ module: 'package', args: { 'bad key': 1 } }).success).toBe(false);
    expect(findStep('ansible-playbook')!.fromWords(['- hosts: all'])).toEqual({ playbook: '- hosts: all' });
  });
});
