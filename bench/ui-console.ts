import type { Browser } from '@playwright/test';
import type { Namespace, Socket as ServerSocket } from 'socket.io';
import type { ConsoleOutput } from '@/lib/contracts/console';
import { connected, loginCookie, socket } from '@/server/integration/harness';

export const CONSOLE_BYTES = 16 * 1000 * 1000;

export const floodCommand = (mark: string, bytes = CONSOLE_BYTES) =>
  `yes 'hangar console throughput: the quick brown fox jumps over the lazy dog 0123456789' | head -c ${bytes}; printf '%s-%s\\n' ${mark} done\n`;

/** Baseline: the same output through the same server, read by a socket.io client in Node (acking each chunk, rendering nothing). */
export async function consoleWithoutBrowser(url: string, password: string, bytes = CONSOLE_BYTES): Promise<number> {
  const s = socket(url, '/console', { cookie: await loginCookie(url, 'admin', password), origin: url });
  await connected(s);
  try {
    const sessionId = `benchui-node-${Date.now().toString(36)}`;
    const reply = await new Promise<{ ok: boolean }>((resolve) =>
      s.emit('attach', { sessionId, target: { kind: 'host-shell' }, cols: 160, rows: 48 }, resolve),
    );
    if (!reply.ok) throw new Error(`attach: ${JSON.stringify(reply)}`);
    const mark = `UIBASE${Date.now().toString(36)}`;
    let tail = '';
    const done = new Promise<void>((resolve) =>
      s.on('output', (msg: ConsoleOutput, ack: () => void) => {
        tail = (tail + msg.data).slice(-4096);
        ack();
        if (tail.includes(`${mark}-done`)) resolve();
      }),
    );
    const t0 = performance.now();
    s.emit('input', { sessionId, data: floodCommand(mark, bytes) });
    await done;
    return (performance.now() - t0) / 1000;
  } finally {
    s.disconnect();
  }
}

interface EnginePacket {
  type: string;
  data?: unknown;
}

/**
 * When a page has parsed a given output: the server sees the page's ack of the message that
 * carried the mark (the console acks a message once xterm has parsed it, and xterm paints at
 * the next frame). Read off the server's own sockets, so the page runs nothing extra and the
 * WebGL renderer, which leaves no text in the DOM, is timed the same way as the DOM one.
 */
export function watchAcks(nsp: Namespace) {
  const waiting = new Map<string, () => void>();
  nsp.on('connection', (s: ServerSocket) => {
    const marks = new Map<string, string>();
    let tail = '';
    s.conn.on('packetCreate', (p: EnginePacket) => {
      if (p.type !== 'message' || typeof p.data !== 'string' || !p.data.startsWith('2/console,')) return;
      // A mark may be cut in two by message boundaries: look in the end of the last message too.
      const text = tail + p.data;
      tail = p.data.slice(-200);
      for (const mark of waiting.keys()) {
        const at = text.indexOf(`${mark}-done`);
        if (at < 0 || marks.has(mark)) continue;
        const id = /^2\/console,(\d+)\[/.exec(p.data)?.[1];
        if (id) marks.set(id, mark);
      }
    });
    s.conn.on('packet', (p: EnginePacket) => {
      if (p.type !== 'message' || typeof p.data !== 'string' || !p.data.startsWith('3/console,')) return;
      const id = /^3\/console,(\d+)\[/.exec(p.data)?.[1];
      const mark = id && marks.get(id);
      if (!mark) return;
      marks.delete(id);
      waiting.get(mark)?.();
      waiting.delete(mark);
    });
  });
  return {
    parsed: (mark: string) => new Promise<void>((resolve) => waiting.set(mark, resolve)),
  };
}

/**
 * The flood typed into the host shell of /console in a fresh tab (its own session), timed from
 * the keystrokes to the page's ack of the last line. `webgl`: the WebGL renderer asked for (the
 * user setting); else the renderer the page picks itself.
 */
export async function consoleInBrowser(
  browser: Browser,
  url: string,
  password: string,
  acks: ReturnType<typeof watchAcks>,
  webgl: boolean,
): Promise<{ s: number; renderer: 'webgl' | 'dom'; gl: string | null }> {
  const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  try {
    const page = await ctx.newPage();
    const login = await page.request.post(`${url}/api/auth/login`, { data: { username: 'admin', password }, headers: { origin: url } });
    if (!login.ok()) throw new Error(`login: ${login.status()}`);
    if (webgl) await page.addInitScript(() => localStorage.setItem('hangar.console.renderer', 'webgl'));
    await page.goto(`${url}/console`);
    await page.locator('[data-testid="console-status"][data-status="live"]').waitFor({ timeout: 30_000 });
    await page.waitForTimeout(500);
    const renderer = (await page.locator('.xterm-screen canvas').count()) > 0 ? 'webgl' : 'dom';
    // Asked for WebGL and fell back to the DOM renderer: the figure would be the DOM renderer's under WebGL's name.
    if (webgl && renderer !== 'webgl') throw new Error('console bench: the WebGL renderer was asked for and did not load');
    // Who draws WebGL here (SwiftShader without a GPU), as a script string: see frameDeltas in ui.ts.
    const gl = (await page.evaluate(`(() => {
      const c = document.createElement('canvas').getContext('webgl2');
      const i = c && c.getExtension('WEBGL_debug_renderer_info');
      const name = i ? String(c.getParameter(i.UNMASKED_RENDERER_WEBGL)) : null;
      if (c) c.getExtension('WEBGL_lose_context')?.loseContext();
      return name;
    })()`)) as string | null;
    await page.getByTestId('terminal').click();
    const flood = async (mark: string, bytes: number) => {
      const parsed = acks.parsed(mark);
      await page.keyboard.type(floodCommand(mark, bytes));
      const t0 = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('console flood: no ack of the last line in 300 s')), 300_000)));
      await Promise.race([parsed, late]).finally(() => clearTimeout(timer));
      return (performance.now() - t0) / 1000;
    };
    // Warm-up, as for the Node client (the page's code compiled), not measured.
    await flood(`UIWARM${Date.now().toString(36)}`, 2_000_000);
    const mark = `UIBENCH${Date.now().toString(36)}`;
    const s = await flood(mark, CONSOLE_BYTES);
    // The DOM renderer's text can be read: the last line is on screen.
    if (renderer === 'dom')
      await page.waitForFunction((m) => (document.querySelector('.xterm-rows') as HTMLElement | null)?.innerText.includes(`${m}-done`), mark, {
        timeout: 10_000,
      });
    return { s, renderer, gl };
  } finally {
    await ctx.close();
  }
}
