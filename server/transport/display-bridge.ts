import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ID_PATTERN, NAME_PATTERN } from '@/lib/contracts/common';
import { RfbClientFilter } from '@/lib/rfb-filter';
import type { Core } from '@/server/core/hangar';
import { NotFoundError, UnauthorizedError } from '@/server/core/errors';
import { credentialsFrom, isSameOrigin } from './credentials';
import { refuse } from './upgrade-refusal';

const PATH = /^\/api\/machines\/([^/?#]+)\/display(?:\?(.*))?$/;

/** True for the display's upgrade requests (http.ts routes them here). */
export const isDisplayUpgrade = (url: string | undefined): boolean => !!url && PATH.test(url);

/** Above this much unsent to the browser, the display server is read no more until it drains. */
const HIGH = 4 * 1024 * 1024;
const LOW = 1024 * 1024;

/**
 * The Display tab's wire: a websocket upgrade on /api/machines/{ref}/display, authorized as a
 * console (core.display.open: operators type, viewers and share links watch), then the raw RFB
 * bytes of the machine's VNC server both ways in binary frames. The browser's half is framed
 * message by message (lib/rfb-filter.ts): a viewer's keys, pointer and clipboard are dropped here,
 * not in the page, and a malformed or oversized message closes this socket only.
 */
export function displayBridges(core: Core) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 512 * 1024 });
  const open = new Set<WebSocket>();
  return {
    async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
      const m = PATH.exec(req.url ?? '');
      const ip = req.socket.remoteAddress ?? null;
      try {
        const ref = decodeURIComponent(m?.[1] ?? '');
        const h = req.headers;
        // A share link's page has no cookie of its own to send: its token comes in the query.
        const share = new URLSearchParams(m?.[2] ?? '').get('share');
        const creds = credentialsFrom({ cookie: h.cookie ?? null, authorization: h.authorization ?? null, share });
        // A cookie rides along on any site's request: only our own pages may use one.
        if (creds.session && !isSameOrigin({ origin: h.origin ?? null, host: h.host ?? null, 'sec-fetch-site': (h['sec-fetch-site'] as string) ?? null }))
          throw new UnauthorizedError('Cross-site display socket refused.');
        const principal = await core.auth.authenticate(creds);
        if (!principal) throw new UnauthorizedError(share ? 'This share link has expired or was revoked.' : undefined);
        if (!ID_PATTERN.test(ref) && !NAME_PATTERN.test(ref)) throw new NotFoundError('Machine');
        let ws: WebSocket | null = null;
        let closedWith: string | null = null;
        let vnc: Duplex | null = null;
        const t = await core.display.open(principal, ref, (reason) => {
          closedWith = reason;
          ws?.close(4403, reason.slice(0, 120));
          vnc?.destroy();
        });
        vnc = t.stream;
        const { machine, readOnly, stream } = t;
        const started = Date.now();
        void core.audit.record(principal, {
          action: 'display.open',
          target: { kind: 'machine', id: machine.id },
          ip,
          detail: { machine: machine.name, readOnly },
        });
        wss.handleUpgrade(req, socket, head, (w) => {
          ws = w;
          open.add(w);
          const filter = new RfbClientFilter(readOnly);
          let paused = false;
          const drained = () => {
            if (paused && w.bufferedAmount < LOW) {
              paused = false;
              stream.resume();
            }
          };
          // The display server's bytes go on as they come, unread (only the browser's half needs framing); a callback
          // only on what is sent while the browser is behind, which is when there is reading to resume after.
          stream.on('data', (chunk: Buffer) => {
            w.send(chunk, w.bufferedAmount + chunk.length >= LOW ? drained : undefined);
            if (!paused && w.bufferedAmount >= HIGH) {
              paused = true;
              stream.pause();
            }
          });
          w.on('message', (data: Buffer, isBinary) => {
            if (!isBinary) return void w.close(1003, 'RFB travels in binary frames.');
            try {
              // ws gives each message a buffer of its own: the filter's views of it are written as they are, in one write
              // when nothing was dropped.
              const kept = filter.push(data);
              if (kept.length) stream.write(kept.length === 1 ? kept[0] : Buffer.concat(kept));
            } catch (err) {
              // Only this viewer goes: the display server never saw the bytes.
              w.close(1008, (err as Error).message.slice(0, 120));
              stream.destroy();
            }
          });
          const finish = (why: string) => {
            if (!open.delete(w)) return;
            t.done();
            // Ended, not cut: keys the viewer sent just before it went still reach the display server.
            stream.end();
            setTimeout(() => stream.destroy(), 1000).unref();
            void core.audit.record(principal, {
              action: 'display.close',
              target: { kind: 'machine', id: machine.id },
              ip,
              detail: { machine: machine.name, readOnly, seconds: Math.round((Date.now() - started) / 1000), droppedInput: filter.dropped, why },
            });
          };
          stream.on('error', () => w.close(1011, 'The display went away.'));
          stream.on('close', () => w.readyState === w.OPEN && w.close(1000, 'The display closed (the machine stopped?).'));
          w.on('close', () => finish(closedWith ?? 'closed'));
          w.on('error', () => w.terminate());
          if (closedWith) w.close(4403, closedWith);
        });
      } catch (err) {
        refuse(socket, err);
      }
    },
    get size(): number {
      return open.size;
    },
    close(): void {
      for (const w of open) w.terminate();
      wss.close();
    },
  };
}
