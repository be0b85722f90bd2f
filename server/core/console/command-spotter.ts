/** A line that ends like a shell prompt: `/ # `, `user@host:~$ `, `sh-5.2$ `. */
const PROMPT = /[#$] $/;
/** A kernel message's printk stamp, `[    7.120771] `: the kernel writes these over whatever line the console is on. */
const KMSG = /\[\s*\d+\.\d{6}\] /;
const MAX_LINE = 4096;

/**
 * Spots commands typed at a shell prompt from a console's output and input, for markers on a
 * recording's timeline. Typing that starts on a line ending in a prompt arms it; Enter, then the
 * echoed line's end, gives the command as the shell echoed it (tab completion and line editing
 * included). Output is followed as one line of a terminal: escape sequences skipped, carriage
 * return and backspace move the cursor, erase-line cuts. A guess by design: a program that
 * prints a line ending in `$ ` and reads a line looks the same. A kernel message printed into the
 * prompt's line (a serial console shows them wherever the cursor is) is cut out: the prompt, or the
 * echo so far, carries on on the line after it.
 */
export class CommandSpotter {
  private line = '';
  private col = 0;
  /** An escape sequence being skipped: 'esc' after ESC, 'csi' inside `ESC [`, 'osc' inside `ESC ]`. */
  private esc: 'esc' | 'csi' | 'osc' | null = null;
  private csiParams = '';
  /** The prompt typing began after, or null. */
  private armed: string | null = null;
  private entered = false;
  /** Echo read before kernel messages cut the line, while armed. */
  private carry = '';
  /** A prompt was cut by a kernel message: typing on the empty line after it arms. */
  private promptCut = false;

  /** Output from the console; returns the commands whose echoed line ended in it. */
  output(data: string): string[] {
    const found: string[] = [];
    for (const ch of data) {
      if (this.esc) {
        this.escape(ch);
        continue;
      }
      switch (ch) {
        case '\u001b':
          this.esc = 'esc';
          break;
        case '\r':
          this.col = 0;
          break;
        case '\n':
          this.endLine(found);
          this.line = '';
          this.col = 0;
          break;
        case '\b':
          this.col = Math.max(0, this.col - 1);
          break;
        default:
          if (ch < ' ' || this.col >= MAX_LINE) break;
          this.line = this.line.slice(0, this.col).padEnd(this.col) + ch + this.line.slice(this.col + 1);
          this.col++;
      }
    }
    return found;
  }

  private endLine(found: string[]): void {
    const kmsg = KMSG.exec(this.line);
    if (kmsg) {
      const before = this.line.slice(0, kmsg.index);
      if (this.armed !== null && before.startsWith(this.armed)) {
        this.carry += before.slice(this.armed.length);
        this.armed = '';
        return;
      }
      if (this.armed === null && (this.promptCut || PROMPT.test(before))) {
        this.promptCut = true;
        return;
      }
    }
    if (this.armed !== null && this.entered && this.line.startsWith(this.armed)) {
      const cmd = (this.carry + this.line.slice(this.armed.length)).trim();
      if (cmd) found.push(cmd);
    }
    this.armed = null;
    this.entered = false;
    this.carry = '';
    this.promptCut = false;
  }

  private escape(ch: string): void {
    if (this.esc === 'esc') {
      this.esc = ch === '[' ? 'csi' : ch === ']' ? 'osc' : null;
      this.csiParams = '';
    } else if (this.esc === 'csi') {
      if (ch >= '@' && ch <= '~') {
        // Erase in line, from the cursor on (0 or none): what line editors send to redraw.
        if (ch === 'K' && (this.csiParams === '' || this.csiParams === '0')) this.line = this.line.slice(0, this.col);
        if (ch === 'D') this.col = Math.max(0, this.col - (Number(this.csiParams) || 1));
        if (ch === 'C') this.col = Math.min(MAX_LINE, this.col + (Number(this.csiParams) || 1));
        this.esc = null;
      } else this.csiParams += ch;
    } else if (ch === '\u0007' || ch === '\\') this.esc = null;
  }

  /** Keys typed by a viewer: the first arms the spotter when the line shows a prompt; Enter waits for the echo. */
  input(data: string): void {
    for (const ch of data) {
      if (ch === '\r' || ch === '\n') {
        if (this.armed !== null) this.entered = true;
      } else if (this.armed === null && !this.entered && this.col === this.line.length) {
        if (PROMPT.test(this.line)) this.armed = this.line;
        else if (this.promptCut && this.line === '') this.armed = '';
      }
    }
  }
}
