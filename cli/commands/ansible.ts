import { parseArgs } from 'node:util';
import { hostVars, inventoryHost, inventoryList } from '@/lib/ansible-inventory';
import { createApiClient } from '@/lib/api-client';
import { loadConfig } from '../config';
import { CliError } from '../output';

/**
 * `hangar ansible-inventory --list | --host hangar.NAME`: a dynamic inventory of the machines you
 * may reach, as Ansible's script plugin calls it (a two-line wrapper script, see the README), each
 * reached over SSH through `hangar ssh --stdio` (ProxyCommand), like `hangar ssh-config` writes.
 */
export async function ansibleInventory(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { list: { type: 'boolean' }, host: { type: 'string' }, proxy: { type: 'string' } } });
  if (!values.list && values.host === undefined) throw new CliError('Usage: hangar ansible-inventory --list | --host hangar.NAME [--proxy "CMD %n"]', 2);
  const cfg = loadConfig();
  const machines = (await createApiClient({ baseUrl: cfg.url, token: cfg.token }).machines.list()).items;
  const opts = values.proxy ? { proxyCommand: values.proxy } : {};
  if (values.list) {
    process.stdout.write(JSON.stringify(inventoryList(machines, opts), null, 2) + '\n');
    return;
  }
  // A host that is not ours: Ansible expects an empty object, not an error.
  const m = machines.find((x) => inventoryHost(x.name) === values.host || x.name === values.host);
  process.stdout.write(JSON.stringify(m ? hostVars(m, opts) : {}, null, 2) + '\n');
}
