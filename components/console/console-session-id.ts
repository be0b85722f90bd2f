/**
 * Console session ids are made by the client and kept per tab (sessionStorage), so a reload
 * re-attaches to the same server-side session; another tab gets its own unless it is handed the id.
 */
export function consoleSessionId(key: string): string {
  const storageKey = `hangar.console.${key}`;
  const existing = sessionStorage.getItem(storageKey);
  if (existing && /^[A-Za-z0-9_-]{8,64}$/.test(existing)) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  const id = btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
  sessionStorage.setItem(storageKey, id);
  return id;
}

/** Forget the id, so the next attach starts a fresh session (a new SSH shell after `exit`). */
export function forgetConsoleSessionId(key: string): void {
  sessionStorage.removeItem(`hangar.console.${key}`);
}

/**
 * Renderer choice, a user setting: WebGL is fastest where a GPU draws it, the DOM renderer works
 * everywhere. Unset ('auto'): WebGL when the browser draws it in hardware, else the DOM renderer.
 */
export function preferredRenderer(): 'webgl' | 'dom' | 'auto' {
  const v = localStorage.getItem('hangar.console.renderer');
  return v === 'webgl' || v === 'dom' ? v : 'auto';
}
