import net from 'node:net';
import WebSocket from 'ws';

/**
 * A small RFB (VNC) client for tests and the display bench: the 3.8 handshake with security type
 * None, 32-bit true colour, Raw encoding only, and framebuffer updates read whole. It talks over
 * Hangar's display websocket or straight to QEMU's unix socket (the bench's baseline).
 */
export interface RfbUpdate {
  rects: number;
  /** Pixels of the update that are not black. */
  lit: number;
  /** Pixels of them clearly blue (a boot menu's background, say). */
  blue: number;
  bytes: number;
}

interface Wire {
  send(b: Buffer): void;
  close(): void;
  onData(fn: (b: Buffer) => void): void;
  onClose(fn: (code: number, reason: string) => void): void;
}

export class RfbClient {
  width = 0;
  height = 0;
  name = '';
  /** What arrived and was not read yet: joined only when a read needs it (a frame comes in many chunks). */
  private chunks: Buffer[] = [];
  private buffered = 0;
  private waiter: (() => void) | null = null;
  closed: { code: number; reason: string } | null = null;

  private constructor(private readonly wire: Wire) {
    wire.onData((b) => {
      this.chunks.push(b);
      this.buffered += b.length;
      this.waiter?.();
    });
    wire.onClose((code, reason) => {
      this.closed = { code, reason };
      this.waiter?.();
    });
  }

  /** Through Hangar: ws(s)://HOST/api/machines/REF/display, with a bearer token or ?share=. */
  static async overWebsocket(url: string, headers: Record<string, string> = {}): Promise<RfbClient> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    // Listening from the start: the server's greeting can come in the same packet as the upgrade's answer.
    const c = new RfbClient({
      send: (b) => ws.send(b),
      close: () => ws.close(),
      onData: (fn) => ws.on('message', (d: Buffer) => fn(d)),
      onClose: (fn) => ws.on('close', (code, reason) => fn(code, String(reason))),
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk));
        res.on('end', () => reject(new Error(`upgrade refused: ${res.statusCode} ${body}`)));
      });
    });
    await c.handshake();
    return c;
  }

  /** Straight to a unix socket (QEMU's own VNC server). */
  static async overUnixSocket(path: string): Promise<RfbClient> {
    const s = net.connect({ path });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.setNoDelay(true);
    const c = new RfbClient({
      send: (b) => s.write(b),
      close: () => s.destroy(),
      onData: (fn) => s.on('data', fn),
      onClose: (fn) => s.on('close', () => fn(1006, 'socket closed')),
    });
    await c.handshake();
    return c;
  }

  async read(n: number, ms = 30_000): Promise<Buffer> {
    const end = Date.now() + ms;
    while (this.buffered < n) {
      if (this.closed) throw new Error(`connection closed (${this.closed.code} ${this.closed.reason}) with ${this.buffered}/${n} bytes`);
      const left = end - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${n} bytes (have ${this.buffered})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(t);
          this.waiter = null;
          resolve();
        };
      });
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    const out = all.subarray(0, n);
    return out;
  }

  send(b: Buffer | number[]): void {
    this.wire.send(Buffer.from(b));
  }

  private async handshake(): Promise<void> {
    const version = (await this.read(12)).toString('latin1');
    if (!/^RFB 003\.00[378]\n$/.test(version)) throw new Error(`not an RFB server: ${JSON.stringify(version)}`);
    this.send(Buffer.from('RFB 003.008\n', 'latin1'));
    const n = (await this.read(1))[0];
    if (n === 0) throw new Error('the server refused the connection');
    const types = [...(await this.read(n))];
    if (!types.includes(1)) throw new Error(`no security type None offered: ${types.join(',')}`);
    this.send([1]);
    const result = (await this.read(4)).readUInt32BE(0);
    if (result !== 0) throw new Error(`security handshake failed: ${result}`);
    this.send([1]); // ClientInit: shared
    const init = await this.read(24);
    this.width = init.readUInt16BE(0);
    this.height = init.readUInt16BE(2);
    this.name = (await this.read(init.readUInt32BE(20))).toString('utf8');
    // 32 bits per pixel, depth 24, little endian, true colour, 8 bits each at 16/8/0.
    this.send([0, 0, 0, 0, 32, 24, 0, 1, 0, 255, 0, 255, 0, 255, 16, 8, 0, 0, 0, 0]);
    this.send([2, 0, 0, 1, 0, 0, 0, 0]); // SetEncodings: Raw
  }

  /** FramebufferUpdateRequest for the whole screen. */
  requestUpdate(incremental: boolean): void {
    const b = Buffer.alloc(10);
    b[0] = 3;
    b[1] = incremental ? 1 : 0;
    b.writeUInt16BE(this.width, 6);
    b.writeUInt16BE(this.height, 8);
    this.send(b);
  }

  key(keysym: number, down: boolean): void {
    const b = Buffer.alloc(8);
    b[0] = 4;
    b[1] = down ? 1 : 0;
    b.writeUInt32BE(keysym, 4);
    this.send(b);
  }

  /** Press and release each key of `text` (ASCII; "\n" is Return). */
  type(text: string): void {
    for (const ch of text) {
      const sym = ch === '\n' ? 0xff0d : ch.charCodeAt(0);
      this.key(sym, true);
      this.key(sym, false);
    }
  }

  /** The next framebuffer update (other server messages in between are skipped). */
  async readUpdate(ms = 30_000): Promise<RfbUpdate> {
    for (;;) {
      const type = (await this.read(1, ms))[0];
      if (type === 2) continue; // Bell
      if (type === 3) {
        const h = await this.read(7, ms);
        await this.read(h.readUInt32BE(3), ms);
        continue;
      }
      if (type !== 0) throw new Error(`unexpected server message ${type}`);
      const rects = (await this.read(3, ms)).readUInt16BE(1);
      let lit = 0;
      let blue = 0;
      let bytes = 4;
      for (let i = 0; i < rects; i++) {
        const r = await this.read(12, ms);
        const w = r.readUInt16BE(4);
        const h = r.readUInt16BE(6);
        const enc = r.readInt32BE(8);
        bytes += 12;
        // Pseudo-encodings QEMU may send without being asked carry no pixels here.
        if (enc !== 0) throw new Error(`unexpected encoding ${enc}`);
        const px = await this.read(w * h * 4, ms);
        bytes += px.length;
        // Little endian, blue in the low byte.
        for (let p = 0; p < px.length; p += 4) {
          if (px[p] | px[p + 1] | px[p + 2]) lit++;
          if (px[p] > 96 && px[p + 1] < 64 && px[p + 2] < 64) blue++;
        }
      }
      return { rects, lit, blue, bytes };
    }
  }

  /**
   * Wait until more than `share` of the screen is clearly blue: the test ISO's grub menu (white on blue;
   * SeaBIOS before it is grey on black, OVMF's screen white on black). Asks for a whole screen every 500 ms.
   */
  async untilBlue(share: number, what: string, timeoutMs = 120_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      this.requestUpdate(false);
      if ((await this.readUpdate()).blue > this.width * this.height * share) return;
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /**
   * Type `text` until `taken` says it was (a boot menu's Enter: the kernel's first lines on the serial console), again
   * every 5 s until then: on a loaded host a key can come before the menu reads the keyboard.
   */
  async typeUntil(text: string, taken: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      this.type(text);
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 500));
        if (await taken()) return;
      }
      if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
  }

  close(): void {
    this.wire.close();
  }
}

/** Width and height from a PNG's IHDR; throws when it is not a PNG. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || png.subarray(12, 16).toString('latin1') !== 'IHDR') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
