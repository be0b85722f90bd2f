import { parseArgs } from 'node:util';
import { createApiClient, type ApiClient } from '@/lib/api-client';
import { limitKeys, type LimitKey, type LimitOverrides, type UserLimits } from '@/lib/contracts/limits';
import { limitRows } from '@/lib/limits-format';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

function api(): ApiClient {
  const cfg = loadConfig();
  return createApiClient({ baseUrl: cfg.url, token: cfg.token });
}

function show(l: UserLimits): void {
  console.log(`${l.username} (${l.role})`);
  for (const r of limitRows(l.limits, l.usage)) {
    const own = l.overrides[r.key] !== undefined ? '  (own limit)' : '';
    console.log(`  ${r.name.padEnd(9)} ${r.text}${r.full ? '  FULL' : ''}${own}`);
  }
}

const FLAGS: Record<string, LimitKey> = { machines: 'machines', vcpus: 'vcpus', memory: 'memoryMib', disk: 'diskGib' };
const USAGE =
  'Usage: hangar limits [USER [--machines N] [--vcpus N] [--memory MiB] [--disk GiB] | USER --reset]\n' +
  '  a value: the user\'s own limit; "none": no limit for them; "role": back to the role\'s (admins change others\' limits)';

/** hangar limits: what you may hold and hold now; with a user (admins): theirs, and flags set their own limits. */
export async function limits(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      machines: { type: 'string' },
      vcpus: { type: 'string' },
      memory: { type: 'string' },
      disk: { type: 'string' },
      reset: { type: 'boolean', default: false },
    },
  });
  const client = api();
  const [username] = positionals;
  if (!username) {
    const mine = await client.limits.mine();
    return json ? printJson(mine) : show(mine);
  }
  const all = (await client.limits.list()).items;
  const user = all.find((u) => u.username === username);
  if (!user) throw new CliError(`No user ${username}.`);
  const changes = Object.entries(FLAGS).filter(([flag]) => values[flag as keyof typeof values] !== undefined);
  if (!changes.length && !values.reset) return json ? printJson(user) : show(user);
  const overrides: LimitOverrides = values.reset ? {} : { ...user.overrides };
  for (const [flag, key] of changes) {
    const v = String(values[flag as keyof typeof values]);
    if (v === 'role') delete overrides[key];
    else if (v === 'none') overrides[key] = null;
    else if (/^\d+$/.test(v)) overrides[key] = Number(v);
    else throw new CliError(`--${flag}: a whole number, "none" or "role".\n${USAGE}`, 2);
  }
  const r = await client.limits.put(user.userId, { overrides: Object.fromEntries(limitKeys.filter((k) => k in overrides).map((k) => [k, overrides[k]])) });
  return json ? printJson(r) : show(r);
}
