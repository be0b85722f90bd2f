import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { ID_PATTERN, NAME_PATTERN } from '@/lib/contracts/common';
import { pipeSocket } from '@/lib/ws-pipe';
import type { Core } from '@/server/core/hangar';
import { NotFoundError, UnauthorizedError } from '@/server/core/errors';
import { credentialsFrom, isSameOrigin } from './credentials';
import { refuse } from './upgrade-refusal';

const PATH = /^\/api\/machines\/([^/?#]+)\/ssh-tunnel(?:\?.*)?$/;

/** True for the tunnel's upgrade requests (http.ts routes them here). */
export const isTunnelUpgrade = (url: string | undefined): boolean => !!url && PATH.test(url);

/**
 * `hangar ssh --stdio NAME` (OpenSSH's ProxyCommand) ends here: a websocket upgrade on
 * /api/machines/{ref}/ssh-tunnel, authorized as the SSH tab is (core.ssh.open), then the raw
 * bytes of the guest's sshd both ways (lib/ws-pipe.ts). Each tunnel is audited when it opens and
 * when it closes (with its byte counts); a revoked grant, token or session closes it.
 */
export function sshTunnels(core: Core) {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1024 * 1024 });
  const open = new Set<WebSocket>();
  return {
    async upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
      const ref = decodeURIComponent(PATH.exec(req.url ?? '')?.[1] ?? '');
      const ip = req.socket.remoteAddress ?? null;
      try {
        const h = req.headers;
        const creds = credentialsFrom({ cookie: h.cookie ?? null, authorization: h.authorization ?? null });
        // A cookie rides along on any site's request: only our own pages may use one.
        if (!creds.bearer && !isSameOrigin({ origin: h.origin ?? null, host: h.host ?? null, 'sec-fetch-site': (h['sec-fetch-site'] as string) ?? null }))
          throw new UnauthorizedError('Log in first: send an API token (Authorization: Bearer).');
        const principal = await core.auth.authenticate(creds);
        if (!principal) throw new UnauthorizedError();
        if (!ID_PATTERN.test(ref) && !NAME_PATTERN.test(ref)) throw new NotFoundError('Machine');
        let ws: WebSocket | null = null;
        let closedWith: string | null = null;
        let opened: Duplex | null = null;
        const t = await core.ssh.open(principal, creds, ref, (reason) => {
          closedWith = reason;
          ws?.close(4403, reason.slice(0, 120));
          opened?.destroy();
        });
        opened = t.stream;
        const { machine, stream } = t;
        const started = Date.now();
        void core.audit.record(principal, { action: 'ssh.tunnel.open', target: { kind: 'machine', id: machine.id }, ip, detail: { machine: machine.name } });
        wss.handleUpgrade(req, socket, head, (w) => {
          ws = w;
          open.add(w);
          const state = pipeSocket(w, stream, stream, (s) => {
            // Both directions finished: the tunnel is done.
            if (s.sentEof && s.gotEof) w.close(1000, 'done');
          });
          const finish = (why: string) => {
            if (!open.delete(w)) return;
            t.done();
            stream.destroy();
            void core.audit.record(principal, {
              action: 'ssh.tunnel.close',
              target: { kind: 'machine', id: machine.id },
              ip,
              detail: { machine: machine.name, bytesIn: state.bytesIn, bytesOut: state.bytesOut, seconds: Math.round((Date.now() - started) / 1000), why },
            });
          };
          stream.on('error', () => w.close(1011, 'The SSH server went away.'));
          // sshd gone both ways (the machine stopped, the process ended): nothing more can come.
          stream.on('close', () => setTimeout(() => w.readyState === w.OPEN && w.close(1000, 'done'), 2000).unref());
          w.on('close', () => finish(closedWith ?? 'closed'));
          w.on('error', () => w.terminate());
          if (closedWith) w.close(4403, closedWith);
        });
      } catch (err) {
        refuse(socket, err);
      }
    },
    close(): void {
      for (const w of open) w.terminate();
      wss.close();
    },
  };
}
