import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { normalizeFingerprint, type TlsTrust } from './tls-pin';

export interface CliConfig {
  url: string;
  token?: string;
  /** How to trust the server's certificate (https:// only): a CA, or the fingerprint pinned at login. */
  tls?: TlsTrust;
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
  const url = (process.env.HANGAR_URL || saved.url || `http://127.0.0.1:${process.env.HANGAR_PORT || 3000}`).replace(/\/+$/, '');
  // A pin is for the server it was made with; another URL (HANGAR_URL) gets the trust its own variables give.
  let tls = saved.tls && saved.url && sameOrigin(saved.url, url) ? saved.tls : undefined;
  if (process.env.HANGAR_CA) tls = { ca: fs.readFileSync(process.env.HANGAR_CA, 'utf8') };
  else if (process.env.HANGAR_TLS_FINGERPRINT) tls = { fingerprint256: normalizeFingerprint(process.env.HANGAR_TLS_FINGERPRINT) };
  return { url, token: process.env.HANGAR_TOKEN || saved.token, tls };
}

function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

/** What is saved, without the environment's overrides (a pin to compare with at login). */
export function savedConfig(): Partial<CliConfig> {
  try {
    return JSON.parse(fs.readFileSync(configPath(), 'utf8'));
  } catch {
    return {};
  }
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
