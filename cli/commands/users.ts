import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { roles, type Role } from '@/lib/roles';
import { loadConfig } from '../config';
import { CliError, printJson, readStdin } from '../output';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

const role = (r: string | undefined): Role => {
  if (!r || !(roles as readonly string[]).includes(r)) throw new CliError(`--role: one of ${roles.join(', ')}`, 2);
  return r as Role;
};

async function userId(client: ApiClient, username: string | undefined): Promise<string> {
  if (!username) throw new CliError('Name the user.', 2);
  const u = (await client.users.list()).items.find((x) => x.username === username);
  if (!u) throw new CliError(`No user ${username}.`);
  return u.id;
}

const USAGE = 'Usage: hangar users [ls | add NAME [--role R] [--password-stdin] | role NAME ROLE | disable NAME | enable NAME | reset-password NAME | rm NAME]';

/** hangar users ...: people and their roles (admins). Passwords Hangar makes are printed once. */
export async function users(argv: string[], json: boolean): Promise<void> {
  const client = api();
  const [sub = 'ls', name, ...rest] = argv;
  switch (sub) {
    case 'ls': {
      const items = (await client.users.list()).items;
      if (json) return printJson(items);
      for (const u of items) console.log(`${u.username.padEnd(20)} ${u.role.padEnd(9)} ${u.disabled ? 'disabled' : ''}`);
      return;
    }
    case 'add': {
      const { values } = parseArgs({
        args: rest,
        options: { role: { type: 'string', default: 'viewer' }, 'password-stdin': { type: 'boolean', default: false } },
      });
      if (!name) throw new CliError(USAGE, 2);
      const password = values['password-stdin'] ? (await readStdin()).split('\n')[0] : undefined;
      const r = await client.users.create({ username: name, role: role(values.role), ...(password ? { password } : {}) });
      if (json) return printJson(r);
      console.log(`Added ${r.user.username} (${r.user.role}).${r.password ? `\nPassword (shown once): ${r.password}` : ''}`);
      return;
    }
    case 'role': {
      const u = await client.users.update(await userId(client, name), { role: role(rest[0]) });
      return json ? printJson(u) : console.log(`${u.username} is now ${u.role}.`);
    }
    case 'disable':
    case 'enable': {
      const u = await client.users.update(await userId(client, name), { disabled: sub === 'disable' });
      return json ? printJson(u) : console.log(`${u.username} ${u.disabled ? 'disabled: their sessions ended' : 'enabled'}.`);
    }
    case 'reset-password': {
      const r = await client.users.resetPassword(await userId(client, name));
      return json ? printJson(r) : console.log(`New password for ${name} (shown once): ${r.password}\nTheir sessions ended.`);
    }
    case 'rm': {
      await client.users.remove(await userId(client, name));
      return json ? printJson({ ok: true }) : console.log(`Deleted ${name}.`);
    }
    default:
      throw new CliError(USAGE, 2);
  }
}

/** hangar passwd: your own password, read from stdin as two lines (current, new), so it never shows in ps or history. */
export async function passwd(json: boolean): Promise<void> {
  if (process.stdin.isTTY) process.stderr.write('Current password, then the new one, each on a line (Ctrl-D ends):\n');
  const [current, password] = (await readStdin()).split('\n');
  if (!current || !password) throw new CliError('Give the current password and the new one on two lines of stdin.', 2);
  await api().auth.changePassword({ current, password });
  return json ? printJson({ ok: true }) : console.log('Password changed; your other sessions ended.');
}

/** hangar audit [--action A] [--actor U] [--target ID] [-n N] [--cursor C] [--jsonl]: the audit log, newest first, a page at a time. */
export async function audit(argv: string[], json: boolean): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      action: { type: 'string' },
      actor: { type: 'string' },
      target: { type: 'string' },
      n: { type: 'string', short: 'n', default: '50' },
      cursor: { type: 'string' },
      jsonl: { type: 'boolean', default: false },
    },
  });
  const limit = Number(values.n);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new CliError('-n: 1 to 1000', 2);
  const filter = { action: values.action, actor: values.actor, target: values.target };
  const { items, next } = await api().audit.list({ ...filter, limit, ...(values.cursor ? { cursor: values.cursor } : {}) });
  if (next)
    console.error(
      `More: hangar audit${Object.entries(filter)
        .map(([k, v]) => (v ? ` --${k} ${v}` : ''))
        .join('')} -n ${limit} --cursor ${next}`,
    );
  if (json) return printJson(items);
  if (values.jsonl) return void process.stdout.write(items.map((e) => `${JSON.stringify(e)}\n`).join(''));
  for (const e of items) {
    const who = `${e.actorName ?? '-'}${e.actorKind === 'token' ? ' (token)' : ''}`;
    console.log(
      `${new Date(e.ts).toISOString()}  ${who.padEnd(18)} ${e.action.padEnd(22)} ${e.targetKind ? `${e.targetKind} ${e.targetId ?? ''}` : ''}  ${e.ip ?? ''}`,
    );
  }
}
