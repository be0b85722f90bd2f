import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createApiClient } from '@/lib/api-client';
import { loadConfig } from '../config';
import { CliError, printJson } from '../output';

/** The machine page's tabs (components/machines/machine-detail.tsx reads ?tab=). */
export const MACHINE_TABS = ['overview', 'console', 'display', 'ssh', 'files', 'snapshots', 'log', 'settings'] as const;

/** An executable on PATH, or null. */
function onPath(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, cmd);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** The page of a machine, by its name (the page takes a name or an id), on a tab. */
export function machinePageUrl(base: string, name: string, tab?: string): string {
  const url = `${base.replace(/\/+$/, '')}/machines/${encodeURIComponent(name)}`;
  return tab && tab !== 'overview' ? `${url}?tab=${encodeURIComponent(tab)}` : url;
}

/** `hangar open NAME [--tab T]`: prints the page and opens it in a browser when there is one (spin's `spin view`). */
export async function open(argv: string[], json: boolean): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { tab: { type: 'string', short: 't' } } });
  if (positionals.length !== 1) throw new CliError(`Usage: hangar open NAME [--tab ${MACHINE_TABS.join('|')}]`, 2);
  if (values.tab && !(MACHINE_TABS as readonly string[]).includes(values.tab)) throw new CliError(`--tab: one of ${MACHINE_TABS.join(', ')}`, 2);
  const cfg = loadConfig();
  // Asked first: a name that is not a machine (or not yours) is an error here, not a 404 page in a browser.
  const m = await createApiClient({ baseUrl: cfg.url, token: cfg.token }).machines.get(positionals[0]);
  const url = machinePageUrl(cfg.url, m.name, values.tab);
  const opener = process.env.HANGAR_NO_BROWSER ? null : onPath('xdg-open');
  if (json) printJson({ url, opened: !!opener });
  else console.log(url);
  if (!opener) return;
  // Detached and ignored: a browser that fails to start (no display) is not this command's failure.
  const child = spawn(opener, [url], { detached: true, stdio: 'ignore' });
  child.on('error', () => undefined);
  child.unref();
}
