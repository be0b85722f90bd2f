import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const USAGE = 'Usage: hangar keys [ls | add FILE [--name N] | rm ID]   (FILE: a public key, e.g. ~/.ssh/id_ed25519.pub; - reads stdin)';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

function readKey(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 2);
  }
}

/** hangar keys ...: your SSH public keys (machines you may operate let them in). */
export async function keys(argv: string[], json: boolean): Promise<void> {
  const [sub = 'ls', ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const items = (await api().sshKeys.list()).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('No SSH keys. Add one: hangar keys add ~/.ssh/id_ed25519.pub');
      for (const k of items) console.log(`${k.id}  ${k.type.padEnd(20)} ${k.fingerprint}  ${k.name}`);
      return;
    }
    case 'add': {
      const { values, positionals } = parseArgs({ args: rest, options: { name: { type: 'string' } }, allowPositionals: true });
      if (positionals.length !== 1) throw new CliError(USAGE, 2);
      const k = await api().sshKeys.add({ publicKey: readKey(positionals[0]), ...(values.name ? { name: values.name } : {}) });
      return json ? printJson(k) : console.log(`Added ${k.id}: ${k.type} ${k.fingerprint} (${k.name}).`);
    }
    case 'rm': {
      if (rest.length !== 1) throw new CliError(USAGE, 2);
      const k = await api().sshKeys.remove(rest[0]);
      return json ? printJson(k) : console.log(`Removed ${k.id} (${k.fingerprint}, ${k.name}).`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}
