/**
 * A byte stream over a websocket (the SSH tunnel's wire, used by the server and the CLI alike):
 * binary frames carry the bytes, a text frame "eof" half-closes its direction (TCP's FIN), and
 * each side stops reading when the other cannot keep up (back-pressure both ways: the socket's
 * send buffer on one side, the writable's drain on the other). Structural types: no Node import.
 */

export const TUNNEL_EOF = 'eof';
/** Above this much unsent, the source pauses; it resumes below the low mark. */
const HIGH = 4 * 1024 * 1024;
const LOW = 1024 * 1024;

export interface PipeSocket {
  readonly bufferedAmount: number;
  send(data: Uint8Array | string, cb?: (err?: Error) => void): void;
  pause(): void;
  resume(): void;
  on(event: 'message', fn: (data: Uint8Array, isBinary: boolean) => void): unknown;
}

export interface PipeSource {
  on(event: 'data', fn: (chunk: Uint8Array) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  pause(): unknown;
  resume(): unknown;
}

export interface PipeSink {
  write(chunk: Uint8Array): boolean;
  once(event: 'drain', fn: () => void): unknown;
  end(): unknown;
}

export interface PipeState {
  /** This side sent its eof (its source ended). */
  sentEof: boolean;
  /** The other side's eof came (the sink was ended). */
  gotEof: boolean;
  bytesIn: number;
  bytesOut: number;
}

/** Pump `source` into the socket and the socket into `sink`; `onHalf` hears each half-close (the caller closes when both are done). */
export function pipeSocket(ws: PipeSocket, source: PipeSource, sink: PipeSink, onHalf: (s: PipeState) => void): PipeState {
  const s: PipeState = { sentEof: false, gotEof: false, bytesIn: 0, bytesOut: 0 };
  let paused = false;
  const sent = () => {
    if (paused && ws.bufferedAmount < LOW) {
      paused = false;
      source.resume();
    }
  };
  source.on('data', (chunk) => {
    s.bytesOut += chunk.length;
    ws.send(chunk, sent);
    if (!paused && ws.bufferedAmount >= HIGH) {
      paused = true;
      source.pause();
    }
  });
  source.on('end', () => {
    if (s.sentEof) return;
    s.sentEof = true;
    ws.send(TUNNEL_EOF);
    onHalf(s);
  });
  let waitingDrain = false;
  ws.on('message', (data, isBinary) => {
    if (!isBinary) {
      if (String(data) === TUNNEL_EOF && !s.gotEof) {
        s.gotEof = true;
        sink.end();
        onHalf(s);
      }
      return;
    }
    if (s.gotEof) return;
    s.bytesIn += data.length;
    if (!sink.write(data) && !waitingDrain) {
      waitingDrain = true;
      ws.pause();
      sink.once('drain', () => {
        waitingDrain = false;
        ws.resume();
      });
    }
  });
  return s;
}
