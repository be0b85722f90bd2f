import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { jobStates, type JobState } from '@/lib/contracts/jobs';
import { formatAge } from '@/lib/format';
import { loadConfig } from '../config';
import { CliError, pageArgs, printJson, printNextPage } from '../output';

export async function status(json: boolean): Promise<void> {
  const cfg = loadConfig();
  const api = createApiClient({ baseUrl: cfg.url, token: cfg.token });
  const health = await api.health();
  const me = cfg.token ? await api.auth.me() : null;
  const [machines, jobs] = me ? await Promise.all([api.machines.list(), api.jobs.list({ limit: 500 })]) : [null, null];
  const running = jobs?.items.filter((j) => !j.parentId && (j.state === 'running' || j.state === 'queued')).length ?? null;
  if (json) {
    printJson({
      url: cfg.url,
      health,
      user: me ? { username: me.user.username, role: me.role } : null,
      machines: machines?.items.length ?? null,
      activeJobs: running,
    });
    return;
  }
  console.log(`Hangar ${health.version} at ${cfg.url}: up ${Math.round(health.uptimeS)} s, database ${health.db}`);
  if (!me) {
    console.log('Not logged in: run `hangar login`.');
    return;
  }
  console.log(`Logged in as ${me.user.username} (${me.role}, via ${me.via})`);
  console.log(`Machines: ${machines?.items.length ?? 0}   active jobs: ${running}`);
}

/** hangar jobs [--state S] [--limit N [--cursor C]]: jobs, newest first, a page at a time. */
export async function jobs(argv: string[], json: boolean): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { state: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } } });
  if (values.state && !jobStates.includes(values.state as JobState)) throw new CliError(`--state: one of ${jobStates.join(', ')}`, 2);
  const cfg = loadConfig();
  const page = pageArgs(values, 500);
  const r = await createApiClient({ baseUrl: cfg.url, token: cfg.token }).jobs.list({ ...page, ...(values.state ? { state: values.state as JobState } : {}) });
  // Without --limit the server's page is 100: say how to see more either way.
  printNextPage(r.next, `hangar jobs${values.state ? ` --state ${values.state}` : ''}`, page.limit ?? r.items.length);
  if (json) return printJson(r.items);
  if (r.items.length === 0) return void console.log('No jobs.');
  for (const j of r.items) {
    const progress = j.state === 'running' ? ` ${Math.round(j.progress)}%` : '';
    console.log(`${j.id}  ${`${j.state}${progress}`.padEnd(14)} ${formatAge(j.createdAt).padEnd(10)} ${j.title}${j.error ? `: ${j.error}` : ''}`);
  }
}
