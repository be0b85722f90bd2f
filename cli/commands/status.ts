import { createApiClient } from '@/lib/api-client';
import { loadConfig } from '../config';
import { printJson } from '../output';

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
