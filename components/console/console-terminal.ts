import type { Terminal } from '@xterm/xterm';
import type { FitAddon } from '@xterm/addon-fit';
import type { SearchAddon } from '@xterm/addon-search';
import { scrollbackText } from '@/lib/console-text';
import { copyText, fontSizePref, isDarkTheme, isMac, onThemeChange, readClipboard, selectToCopyPref, terminalThemes } from '@/components/console/console-prefs';
import { preferredRenderer } from '@/components/console/console-session-id';

export interface TerminalKit {
  term: Terminal;
  fit: FitAddon;
  search: SearchAddon;
  /** The whole buffer (scrollback and screen) as text. */
  text(): string;
  copySelection(): Promise<boolean>;
  /** Ask the clipboard and paste through `onPaste`; false where the page may not read it. */
  pasteFromClipboard(): Promise<boolean>;
  dispose(): void;
}

export interface TerminalHooks {
  /** Every paste (keyboard, menu, drop) comes here first: it may ask, then call term.paste. */
  onPaste(text: string): void;
  onContextMenu(x: number, y: number): void;
  onFind(): void;
  onCopied(ok: boolean): void;
}

/**
 * An xterm.js terminal with the addons a console needs: fit, search, clickable links, OSC 52
 * (the guest may set the clipboard, never read it), WebGL where a GPU draws it; copy and paste on
 * Ctrl+Shift+C / Ctrl+Shift+V (Cmd on macOS), select-to-copy, the right-click menu, and the
 * theme of the dashboard. Loaded in the browser only (xterm touches `window` at import).
 */
export async function createTerminal(host: HTMLElement, hooks: TerminalHooks): Promise<TerminalKit> {
  const [{ Terminal }, { FitAddon }, { SearchAddon }, { WebLinksAddon }, { ClipboardAddon }] = await Promise.all([
    import('@xterm/xterm'),
    import('@xterm/addon-fit'),
    import('@xterm/addon-search'),
    import('@xterm/addon-web-links'),
    import('@xterm/addon-clipboard'),
  ]);
  const term = new Terminal({
    cursorBlink: true,
    fontFamily: 'ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace',
    fontSize: fontSizePref(),
    scrollback: 10_000,
    // Search highlights are decorations, a proposed API.
    allowProposedApi: true,
    theme: terminalThemes[isDarkTheme() ? 'dark' : 'light'],
  });
  const fit = new FitAddon();
  const search = new SearchAddon({ highlightLimit: 2000 });
  term.loadAddon(fit);
  term.loadAddon(search);
  term.loadAddon(
    new WebLinksAddon((e, uri) => {
      // Links open in a new tab without a way back to this page.
      if (/^https?:\/\//i.test(uri)) window.open(uri, '_blank', 'noopener,noreferrer');
      e.preventDefault();
    }),
  );
  term.loadAddon(
    new ClipboardAddon(undefined, {
      // OSC 52 read requests would hand the user's clipboard to whatever runs in the guest.
      readText: () => '',
      writeText: async (_sel, text) => {
        if (text) hooks.onCopied(await copyText(text));
      },
    }),
  );
  term.open(host);
  const renderer = preferredRenderer();
  if (renderer === 'webgl' || (renderer === 'auto' && hardwareWebgl())) {
    try {
      const { WebglAddon } = await import('@xterm/addon-webgl');
      const webgl = new WebglAddon();
      webgl.onContextLoss(() => webgl.dispose());
      term.loadAddon(webgl);
    } catch {
      // No WebGL here (no GPU, or disabled): the DOM renderer carries on.
    }
  }
  const copySelection = async () => {
    const ok = await copyText(term.getSelection());
    hooks.onCopied(ok);
    return ok;
  };
  const pasteFromClipboard = async () => {
    const text = await readClipboard();
    if (text === null) return false;
    if (text) hooks.onPaste(text);
    return true;
  };
  term.attachCustomKeyEventHandler((e) => {
    if (e.type !== 'keydown') return true;
    const chord = isMac() ? e.metaKey && !e.ctrlKey : e.ctrlKey && e.shiftKey;
    if (chord && e.code === 'KeyC') {
      if (term.hasSelection()) void copySelection();
      e.preventDefault();
      return false;
    }
    if (chord && e.code === 'KeyV') {
      // Read the clipboard ourselves where we may; else let the browser fire its paste event (caught below).
      if (window.isSecureContext && navigator.clipboard) {
        e.preventDefault();
        void pasteFromClipboard().then((ok) => !ok && hooks.onCopied(false));
      }
      return false;
    }
    if (chord && e.code === 'KeyF') {
      e.preventDefault();
      hooks.onFind();
      return false;
    }
    return true;
  });
  // Every native paste (Cmd+V, the browser's menu, middle click) goes through the same check.
  const onPasteEvent = (e: ClipboardEvent) => {
    e.preventDefault();
    e.stopImmediatePropagation();
    const text = e.clipboardData?.getData('text/plain') ?? '';
    if (text) hooks.onPaste(text);
  };
  const onMenu = (e: MouseEvent) => {
    e.preventDefault();
    hooks.onContextMenu(e.clientX, e.clientY);
  };
  host.addEventListener('paste', onPasteEvent, true);
  host.addEventListener('contextmenu', onMenu);
  let copyTimer: ReturnType<typeof setTimeout> | undefined;
  const sel = term.onSelectionChange(() => {
    clearTimeout(copyTimer);
    if (!selectToCopyPref() || !term.hasSelection()) return;
    copyTimer = setTimeout(() => void copyText(term.getSelection()), 200);
  });
  const offTheme = onThemeChange(() => {
    term.options.theme = terminalThemes[isDarkTheme() ? 'dark' : 'light'];
  });
  const text = () => {
    const buf = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < buf.length; i++) lines.push(buf.getLine(i)?.translateToString(true) ?? '');
    return scrollbackText(lines);
  };
  return {
    term,
    fit,
    search,
    text,
    copySelection,
    pasteFromClipboard,
    dispose() {
      clearTimeout(copyTimer);
      sel.dispose();
      offTheme();
      host.removeEventListener('paste', onPasteEvent, true);
      host.removeEventListener('contextmenu', onMenu);
      term.dispose();
    },
  };
}

let hardware: boolean | undefined;

/**
 * Whether WebGL 2 is drawn by a GPU here. Without one, browsers draw WebGL on the CPU
 * (SwiftShader, llvmpipe): it works, but the terminal's WebGL renderer is then several times
 * slower than its DOM renderer (measured in headless Chromium: 0.7 against 2-3 MB/s).
 */
function hardwareWebgl(): boolean {
  if (hardware !== undefined) return hardware;
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return (hardware = false);
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    gl.getExtension('WEBGL_lose_context')?.loseContext();
    hardware = !/swiftshader|llvmpipe|softpipe|software|basic render/i.test(name);
  } catch {
    hardware = false;
  }
  return hardware;
}

/** Save text as a file through a temporary link. */
export function downloadText(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/plain;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
