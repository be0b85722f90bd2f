/** The most typed input kept while a console is not attached (bytes of UTF-16; a paste beyond it is cut). */
export const INPUT_HELD_MAX = 64 * 1024;

/**
 * Keys typed into a console before it is attached (the tab just opened, a reconnect, a machine's
 * console coming back after a restart): the server drops input for a session this socket has not
 * attached, so they wait here and go, in order, once the attach is answered. Without it the first
 * keys typed after opening a console went nowhere ("echo changed" arrived as "hanged").
 */
export class InputGate {
  private held: string[] = [];
  private size = 0;
  private open = false;

  constructor(private readonly sendNow: (data: string) => void) {}

  send(data: string): void {
    if (this.open) return this.sendNow(data);
    if (this.size + data.length > INPUT_HELD_MAX) return;
    this.held.push(data);
    this.size += data.length;
  }

  /** The console is attached: what waited goes first. */
  opened(): void {
    this.open = true;
    const held = this.held;
    this.held = [];
    this.size = 0;
    for (const d of held) this.sendNow(d);
  }

  /** Not attached any more (the socket dropped, the session closed): typing waits again. */
  closed(): void {
    this.open = false;
  }

  /** The console let go of for good: nothing waiting is sent. */
  drop(): void {
    this.open = false;
    this.held = [];
    this.size = 0;
  }
}
