import type { ITheme } from '@xterm/xterm';

/** Terminal colours per dashboard theme: the console follows the light/dark switch. */
export const terminalThemes: Record<'light' | 'dark', ITheme> = {
  dark: { background: '#09090b', foreground: '#e4e4e7', cursor: '#38bdf8', cursorAccent: '#09090b', selectionBackground: '#0ea5e966' },
  light: {
    background: '#fafafa',
    foreground: '#18181b',
    cursor: '#0284c7',
    cursorAccent: '#fafafa',
    selectionBackground: '#0ea5e944',
    // xterm's defaults are for dark backgrounds: white and yellow would vanish on this one.
    black: '#18181b',
    white: '#52525b',
    brightBlack: '#71717a',
    brightWhite: '#27272a',
    yellow: '#a16207',
    brightYellow: '#ca8a04',
    green: '#15803d',
    brightGreen: '#16a34a',
    cyan: '#0e7490',
    brightCyan: '#0891b2',
    blue: '#1d4ed8',
    brightBlue: '#2563eb',
    magenta: '#a21caf',
    brightMagenta: '#c026d3',
    red: '#b91c1c',
    brightRed: '#dc2626',
  },
};

export const isDarkTheme = () => document.documentElement.classList.contains('dark');

export function onThemeChange(fn: () => void): () => void {
  const obs = new MutationObserver(fn);
  obs.observe(document.documentElement, { attributes: true, attributeFilter: ['class'] });
  return () => obs.disconnect();
}

const FONT_KEY = 'hangar.console.fontSize';
const COPY_KEY = 'hangar.console.selectToCopy';
export const FONT_MIN = 9;
export const FONT_MAX = 28;

export function fontSizePref(): number {
  const n = Number(localStorage.getItem(FONT_KEY));
  return Number.isInteger(n) && n >= FONT_MIN && n <= FONT_MAX ? n : 13;
}

export function setFontSizePref(n: number): number {
  const v = Math.min(FONT_MAX, Math.max(FONT_MIN, Math.round(n)));
  localStorage.setItem(FONT_KEY, String(v));
  return v;
}

/** Selecting text copies it (like a Linux terminal's selection), unless turned off. */
export const selectToCopyPref = () => localStorage.getItem(COPY_KEY) !== 'off';
export const setSelectToCopyPref = (on: boolean) => localStorage.setItem(COPY_KEY, on ? 'on' : 'off');

/** Write to the clipboard: the async API where the page may use it, else the old copy command (plain http). */
export async function copyText(text: string): Promise<boolean> {
  if (!text) return false;
  try {
    if (navigator.clipboard?.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Not allowed here (no focus, insecure origin): try the old way.
  }
  const ta = document.createElement('textarea');
  ta.value = text;
  ta.setAttribute('readonly', '');
  ta.style.position = 'fixed';
  ta.style.opacity = '0';
  document.body.appendChild(ta);
  ta.select();
  try {
    return document.execCommand('copy');
  } finally {
    ta.remove();
  }
}

/** Read the clipboard, or null where the browser does not let a page read it (the user pastes with the keyboard then). */
export async function readClipboard(): Promise<string | null> {
  try {
    return navigator.clipboard?.readText ? await navigator.clipboard.readText() : null;
  } catch {
    return null;
  }
}

export const isMac = () => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);
