import { expect, type Page } from '@playwright/test';

/** A text row of the VGA text mode's 80x25 characters on a 720x400 screen. */
const ROW_PX = 16;
/** Fewer light pixels than this in a row: nothing written there (a stray pixel is not text). */
const TEXT_MIN = 20;
/** A row this light is a highlight bar across the screen (grub's selected menu entry), not text. */
const BAR_MIN = 6000;

/**
 * The Display tab's noVNC canvas read back without OCR: per text row, how many of its pixels are
 * light (grey or white text, or a highlight bar) on the screen's blue or black. Lines typed at a
 * prompt show up as rows that gain light pixels; the canvas keeps the screen's own size (noVNC
 * scales it with CSS), so two viewers of one screen read the same rows.
 */
export class DisplayPage {
  constructor(private readonly page: Page) {}

  status() {
    return this.page.getByTestId('display-status');
  }

  /** Keys go to the screen once its canvas has the focus (a click would move the guest's pointer too). */
  async focus() {
    await this.page.getByTestId('display-screen').locator('canvas').focus();
  }

  async rows(): Promise<number[]> {
    return this.page.getByTestId('display-screen').evaluate((el, px) => {
      const c = el.querySelector('canvas');
      if (!c || !c.width || !c.height) return [];
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      const out = new Array<number>(Math.ceil(c.height / px)).fill(0);
      for (let i = 0; i < d.length; i += 4) if (d[i] > 150 && d[i + 1] > 150 && d[i + 2] > 150) out[Math.floor(i / 4 / c.width / px)]++;
      return out;
    }, ROW_PX);
  }

  /** grub's menu: most of the canvas blue, and the highlight bar of its entry. */
  async menuShown(): Promise<boolean> {
    const { blue, total } = await this.page.getByTestId('display-screen').evaluate((el) => {
      const c = el.querySelector('canvas');
      if (!c || !c.width || !c.height) return { blue: 0, total: 1 };
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 2] > 96 && d[i] < 64 && d[i + 1] < 64) n++;
      return { blue: n, total: c.width * c.height };
    });
    return blue > total / 2 && (await this.rows()).some((r) => r > BAR_MIN);
  }

  /**
   * From the page, past noVNC: a websocket to the machine's display (a share link's token), the
   * RFB handshake and a key press and release for each character (Enter for \r), all in one go;
   * the server's greeting is returned once the socket has closed, after a moment for the keys to go.
   */
  static sendKeysRaw(page: Page, machine: string, share: string, keys: string): Promise<string> {
    return page.evaluate(
      ({ machine, share, keys }) =>
        new Promise<string>((resolve, reject) => {
          const ws = new WebSocket(`ws://${location.host}/api/machines/${machine}/display?share=${encodeURIComponent(share)}`);
          ws.binaryType = 'arraybuffer';
          let greeting = '';
          ws.onmessage = (e) => (greeting ||= String.fromCharCode(...new Uint8Array(e.data as ArrayBuffer).subarray(0, 12)));
          ws.onerror = () => reject(new Error('the display socket failed'));
          ws.onclose = () => resolve(greeting);
          ws.onopen = () => {
            // Version, security type None, ClientInit (shared): the server answers them in order as the bytes come.
            const bytes = [...'RFB 003.008\n'].map((c) => c.charCodeAt(0)).concat([1, 1]);
            for (const c of keys) {
              const sym = c === '\r' ? 0xff0d : c.charCodeAt(0);
              for (const down of [1, 0]) bytes.push(4, down, 0, 0, (sym >>> 24) & 255, (sym >>> 16) & 255, (sym >>> 8) & 255, sym & 255);
            }
            ws.send(new Uint8Array(bytes));
            setTimeout(() => ws.close(), 2000);
          };
        }),
      { machine, share, keys },
    );
  }

  /** Which rows hold text (true) or are empty: the screen's layout, the same for every viewer. */
  static textRows(rows: number[]): boolean[] {
    return rows.map((r) => r > TEXT_MIN);
  }

  /** The last row with text on it: at a prompt, the prompt's row (where the cursor is). */
  static lastTextRow(rows: number[]): number {
    return DisplayPage.textRows(rows).lastIndexOf(true);
  }

  /**
   * After `c` on grub's menu: its command line, the menu's bar gone and the screen settled (two
   * reads a second apart agree on the prompt's row), which is returned.
   */
  async settledPromptRow(): Promise<number> {
    let last = -2;
    let row = -1;
    await expect
      .poll(
        async () => {
          const rows = await this.rows();
          const prev = last;
          last = rows.some((r) => r > BAR_MIN) ? -2 : DisplayPage.lastTextRow(rows);
          row = last;
          return last >= 0 && last === prev;
        },
        { timeout: 30_000, intervals: [1000] },
      )
      .toBe(true);
    return row;
  }
}
