import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { parseSshTarget } from '@/lib/contracts/machines';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

const KEY_HELP = '(FILE: a private key, default ~/.ssh/id_ed25519, id_ecdsa or id_rsa; a key with a passphrase: its first line in --passphrase-file)';
const USAGE = `Usage: hangar adopt NAME --ssh user@host[:port] [--key FILE] [--passphrase-file FILE] [--tag T]...   ${KEY_HELP}`;

/** The key to send: --key, else the first of the usual OpenSSH identities that exists. */
function keyFile(given: string | undefined): string {
  if (given) return given;
  const dir = path.join(os.homedir(), '.ssh');
  const found = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((n) => path.join(dir, n)).find((f) => fs.existsSync(f));
  if (!found) throw new CliError(`No --key given and no ~/.ssh/id_ed25519, id_ecdsa or id_rsa. ${USAGE}`, 2);
  return found;
}

/**
 * hangar adopt NAME --ssh user@host[:port] [--key FILE]: an existing machine (a server, a cloud VM)
 * registered as an SSH machine. The private key goes to the server once (kept 0600 there, never
 * shown again); the server logs in, pins the host key and runs a command before it records it.
 */
export async function adopt(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ssh: { type: 'string' },
      key: { type: 'string', short: 'i' },
      'passphrase-file': { type: 'string' },
      tag: { type: 'string', short: 't', multiple: true, default: [] },
    },
  });
  const name = positionals[0];
  if (!name || !values.ssh || positionals.length > 1) throw new CliError(USAGE, 2);
  if (!parseSshTarget(values.ssh)) throw new CliError(`--ssh ${values.ssh}: write user@host or user@host:port`, 2);
  const file = keyFile(values.key);
  let privateKey: string;
  try {
    privateKey = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`--key ${file}: ${(err as Error).message}`, 2);
  }
  if (!/PRIVATE KEY-----/.test(privateKey)) throw new CliError(`--key ${file}: not a private key file (a public key? give the one without .pub)`, 2);
  // Read from a file (never an argument: other users see a process's arguments); its first line, without the newline.
  let passphrase: string | undefined;
  const pf = values['passphrase-file'];
  if (pf !== undefined) {
    try {
      passphrase = fs.readFileSync(pf, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new CliError(`--passphrase-file ${pf}: ${(err as Error).message}`, 2);
    }
    if (!passphrase) throw new CliError(`--passphrase-file ${pf}: its first line is empty`, 2);
  }
  const cfg = loadConfig();
  const m = await createApiClient({ baseUrl: cfg.url, token: cfg.token }).machines.adopt({
    name,
    ssh: values.ssh,
    privateKey,
    ...(passphrase ? { passphrase } : {}),
    tags: values.tag,
  });
  if (json) printJson(m);
  else
    console.log(
      `${m.name} adopted: ${m.capabilities.words.kind}. Its host key is pinned; exec, hangar ssh ${m.name} and hangar logs ${m.name} work. ` +
        `Not here: ${m.capabilities.checkpoint.reason ?? 'checkpoints'} hangar rm ${m.name} forgets it (the machine is not touched).`,
    );
}
