import fs from 'node:fs';
import type { Client } from 'ssh2';
import { shellLine } from '@/lib/shell-quote';
import { sshConnect, type SshTarget } from '../ssh';

/**
 * What an adopted machine logs, followed over SSH: `journalctl -f` (systemd's journal), else
 * `tail -F` of /var/log/syslog or /var/log/messages. Exits 3 when it has neither (nothing to follow).
 */
const FOLLOW = `since="$1"
if command -v journalctl >/dev/null 2>&1; then
  if [ -n "$since" ]; then exec journalctl -f --no-pager -o short-iso --since "@$since"; fi
  exec journalctl -f --no-pager -o short-iso -n 100
fi
for f in /var/log/syslog /var/log/messages; do if [ -r "$f" ]; then exec tail -n 100 -F "$f"; fi; done
echo "hangar: this machine has neither journalctl nor a readable /var/log/syslog or /var/log/messages: no log to follow"
exit 3`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One machine's journal appended to a file of its dir (the console log: `hangar logs`, the Journal
 * console), as CRLF lines like a serial log. The time of the last line is kept beside it, so that a
 * reconnect (a dropped connection, a server restart) carries on from there instead of again.
 */
export class JournalFollower {
  private stopped = false;
  private client: Client | null = null;

  constructor(
    private readonly target: SshTarget,
    private readonly files: { log: string; since: string },
  ) {
    void this.loop();
  }

  stop(): void {
    this.stopped = true;
    this.client?.end();
  }

  private async loop(): Promise<void> {
    let delay = 1000;
    while (!this.stopped) {
      const code = await this.once().catch(() => null);
      // Nothing to follow there, or the machine's dir is gone (forgotten): stop for good.
      if (code === 3 || !fs.existsSync(this.files.log.replace(/\/[^/]+$/, ''))) return;
      if (code !== null) delay = 1000;
      await sleep(delay);
      delay = Math.min(delay * 2, 60_000);
    }
  }

  private append(text: string): void {
    try {
      fs.appendFileSync(this.files.log, text.replace(/\r?\n/g, '\r\n'));
      fs.writeFileSync(this.files.since, `${Math.floor(Date.now() / 1000)}\n`);
    } catch {
      // Its dir is gone (the machine forgotten meanwhile).
      this.stop();
    }
  }

  /** One connection's worth of lines; resolves with the command's exit code when it ends. */
  private async once(): Promise<number | null> {
    let since = '';
    try {
      since = fs.readFileSync(this.files.since, 'utf8').trim();
    } catch {
      // first time: its last 100 lines
    }
    const c = await sshConnect(this.target, 10_000);
    if (this.stopped) {
      c.end();
      return null;
    }
    this.client = c;
    try {
      return await new Promise<number | null>((resolve, reject) => {
        c.on('error', reject);
        c.on('close', () => resolve(null));
        c.exec(shellLine(['sh', '-c', FOLLOW, 'follow', since]), (err, stream) => {
          if (err) return reject(err);
          let code: number | null = null;
          stream.setEncoding('utf8');
          stream.on('data', (d: string) => this.append(d));
          stream.stderr.on('data', (d: Buffer) => this.append(d.toString('utf8')));
          stream.on('exit', (c2: number | null) => (code = c2));
          stream.on('close', () => resolve(code));
        });
      });
    } finally {
      this.client = null;
      c.end();
    }
  }
}
