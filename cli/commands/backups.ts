import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import type { CreateBackupTargetBody } from '@/lib/contracts/backups';
import { formatBytes } from '@/lib/format';
import { loadConfig } from '../config';
import { followJob } from '../follow';
import { CliError, printJson } from '../output';

const USAGE = `Usage: hangar backups targets [ls | add NAME --dir PATH | add NAME --s3 --bucket B [--endpoint URL] [--prefix P] [--region R]
                                 --access-key ID (secret from --secret-file FILE or HANGAR_S3_SECRET) | rm NAME]
       hangar backups ls TARGET | restore TARGET ID --name NEW | rm TARGET ID
       hangar backup SNAPSHOT --to TARGET`;

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const when = (t: number) => new Date(t).toISOString().replace('T', ' ').slice(0, 19);

/** The S3 secret never goes on the command line (ps shows argv to every user): a file, or the environment. */
function secret(file: string | undefined): string {
  const s = file ? fs.readFileSync(file, 'utf8').trim() : process.env.HANGAR_S3_SECRET;
  if (!s) throw new CliError('Give the S3 secret key with --secret-file FILE or HANGAR_S3_SECRET.', 2);
  return s;
}

async function targets(client: ApiClient, argv: string[], json: boolean): Promise<void> {
  const [sub = 'ls', name, ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const items = (await client.backups.targets()).items;
      if (json) return printJson(items);
      if (!items.length) return console.log('No backup targets. Add one: hangar backups targets add NAME --dir /mnt/backups');
      for (const t of items)
        console.log(`${t.name.padEnd(20)} ${t.kind.padEnd(3)}  ${t.dir ? t.dir.path : `${t.s3!.endpoint ?? 'aws'} ${t.s3!.bucket}/${t.s3!.prefix}`}`);
      return;
    }
    case 'add': {
      const { values } = parseArgs({
        args: rest,
        options: {
          dir: { type: 'string' },
          s3: { type: 'boolean' },
          bucket: { type: 'string' },
          endpoint: { type: 'string' },
          prefix: { type: 'string' },
          region: { type: 'string' },
          'access-key': { type: 'string' },
          'secret-file': { type: 'string' },
        },
      });
      if (!name || !!values.dir === !!values.s3) throw new CliError(USAGE, 2);
      const body: CreateBackupTargetBody = values.dir
        ? { kind: 'dir', name, path: values.dir }
        : {
            kind: 's3',
            name,
            bucket: values.bucket ?? '',
            ...(values.endpoint ? { endpoint: values.endpoint } : {}),
            ...(values.prefix ? { prefix: values.prefix } : {}),
            ...(values.region ? { region: values.region } : {}),
            accessKeyId: values['access-key'] ?? '',
            secretAccessKey: secret(values['secret-file']),
          };
      const t = await client.backups.addTarget(body);
      if (json) return printJson(t);
      return console.log(`Added backup target ${t.name} (${t.kind}); the write test passed.`);
    }
    case 'rm': {
      if (!name) throw new CliError(USAGE, 2);
      const t = await client.backups.removeTarget(name);
      if (json) return printJson(t);
      return console.log(`Removed backup target ${t.name} (what it holds stays there).`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}

/** hangar backups ...: targets (admins), what a target holds, restores and deletes. */
export async function backups(argv: string[], json: boolean): Promise<void> {
  const client = api();
  const [sub, target, id, ...rest] = argv;
  switch (sub) {
    case 'targets':
      return targets(client, argv.slice(1), json);
    case 'ls': {
      if (!target) throw new CliError(USAGE, 2);
      const items = (await client.backups.list(target, { limit: 500 })).items;
      if (json) return printJson(items);
      if (!items.length) return console.log(`No backups on ${target}.`);
      console.log(`${'ID'.padEnd(26)} ${'MACHINE'.padEnd(16)} ${'SNAPSHOT'.padEnd(24)} ${'TIME (UTC)'.padEnd(19)}  SIZE       STORED`);
      for (const b of items) {
        const who = `${b.id.padEnd(26)} ${(b.machineName ?? '-').padEnd(16)} ${b.snapshotLabel.slice(0, 24).padEnd(24)}`;
        console.log(`${who} ${when(b.createdAt)}  ${formatBytes(b.sizeBytes).padEnd(10)} ${formatBytes(b.storedBytes)}`);
      }
      return;
    }
    case 'restore': {
      const { values } = parseArgs({ args: rest, options: { name: { type: 'string' } } });
      if (!target || !id || !values.name) throw new CliError(USAGE, 2);
      const done = await followJob(client, await client.backups.restore(target, id, values.name), json);
      if (json) return printJson(done.result);
      return console.log(`Restored ${id} as ${values.name}.`);
    }
    case 'rm': {
      if (!target || !id) throw new CliError(USAGE, 2);
      const r = await client.backups.remove(target, id);
      if (json) return printJson(r);
      return console.log(`Deleted ${id} (${r.removedObjects} objects no other backup needed).`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}

/** hangar backup SNAPSHOT --to TARGET */
export async function backup(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { to: { type: 'string' } } });
  if (positionals.length !== 1 || !values.to) throw new CliError(USAGE, 2);
  const client = api();
  const done = await followJob(client, await client.backups.create(positionals[0], values.to), json);
  if (json) return printJson(done.result);
  const r = done.result as { backup: string; uploadedObjects: number; uploadedBytes: number; skippedObjects: number };
  console.log(`Backup ${r.backup}: ${r.uploadedObjects} objects uploaded (${formatBytes(r.uploadedBytes)}), ${r.skippedObjects} already on ${values.to}.`);
}
