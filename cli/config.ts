import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface CliConfig {
  url: string;
  token?: string;
}

export function configPath(): string {
  return path.join(process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'hangar', 'config.json');
}

/** Saved login, overridden by HANGAR_URL / HANGAR_TOKEN (for scripts and CI). */
export function loadConfig(): CliConfig {
  let saved: Partial<CliConfig> = {};
  try {
    saved = JSON.parse(fs.readFileSync(configPath(), 'utf8'));
  } catch {
    // no saved login yet
  }
  return {
    url: (process.env.HANGAR_URL || saved.url || `http://127.0.0.1:${process.env.HANGAR_PORT || 3000}`).replace(/\/+$/, ''),
    token: process.env.HANGAR_TOKEN || saved.token,
  };
}

export function saveConfig(c: CliConfig): void {
  const p = configPath();
  fs.mkdirSync(path.dirname(p), { recursive: true, mode: 0o700 });
  // The token is a credential: owner-only, written whole.
  const tmp = `${p}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(c, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, p);
}

export function clearConfig(): void {
  fs.rmSync(configPath(), { force: true });
}
