/**
 * Reads the client-to-server half of an RFB (VNC) stream message by message, so the display
 * bridge can pass a read-only viewer's screen requests on and drop its input (keys, pointer,
 * clipboard, resizes). Anything it cannot frame — an unknown message type, a bad handshake, a
 * message larger than the caps — is an error: the bridge closes that one socket, and the display
 * server never sees the bytes. No Node import (Uint8Array only): unit-tested on its own.
 */

/** Client message types (RFC 6143 and the QEMU, fence and desktop-size extensions noVNC uses). */
export const RFB_MSG = {
  setPixelFormat: 0,
  setEncodings: 2,
  updateRequest: 3,
  keyEvent: 4,
  pointerEvent: 5,
  clientCutText: 6,
  enableContinuousUpdates: 150,
  clientFence: 248,
  setDesktopSize: 251,
  qemu: 255,
} as const;

/** Caps that keep a hostile client from making the bridge buffer without bound. */
export const RFB_LIMITS = { encodings: 256, cutText: 256 * 1024, screens: 16, fence: 64 } as const;

/** Messages a viewer who only watches may not send: they reach the guest (input) or change its screen. */
const INPUT = new Set<number>([RFB_MSG.keyEvent, RFB_MSG.pointerEvent, RFB_MSG.clientCutText, RFB_MSG.setDesktopSize, RFB_MSG.qemu]);

export class RfbProtocolError extends Error {}

type Phase = 'version' | 'security' | 'init' | 'messages';

const u16 = (b: Uint8Array, at: number) => (b[at] << 8) | b[at + 1];
const u32 = (b: Uint8Array, at: number) => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3];

/** The length of the message at the head of `b` (maybe more than has come), or null while too little came to tell. Throws on what is not RFB. */
export function messageLength(b: Uint8Array): number | null {
  if (b.length < 1) return null;
  const need = (n: number) => (b.length < n ? null : n);
  switch (b[0]) {
    case RFB_MSG.setPixelFormat:
      return 20;
    case RFB_MSG.setEncodings: {
      if (!need(4)) return null;
      const n = u16(b, 2);
      if (n > RFB_LIMITS.encodings) throw new RfbProtocolError(`SetEncodings lists ${n} encodings (at most ${RFB_LIMITS.encodings})`);
      return 4 + 4 * n;
    }
    case RFB_MSG.updateRequest:
      return 10;
    case RFB_MSG.keyEvent:
      return 8;
    case RFB_MSG.pointerEvent:
      return 6;
    case RFB_MSG.clientCutText: {
      if (!need(8)) return null;
      // Extended clipboard: a negative length, its absolute value the payload's size.
      const raw = u32(b, 4);
      const len = raw >= 0x80000000 ? 0x100000000 - raw : raw;
      if (len > RFB_LIMITS.cutText) throw new RfbProtocolError(`ClientCutText of ${len} bytes (at most ${RFB_LIMITS.cutText})`);
      return 8 + len;
    }
    case RFB_MSG.enableContinuousUpdates:
      return 10;
    case RFB_MSG.clientFence: {
      if (!need(9)) return null;
      if (b[8] > RFB_LIMITS.fence) throw new RfbProtocolError(`ClientFence payload of ${b[8]} bytes`);
      return 9 + b[8];
    }
    case RFB_MSG.setDesktopSize: {
      if (!need(8)) return null;
      if (b[6] > RFB_LIMITS.screens) throw new RfbProtocolError(`SetDesktopSize with ${b[6]} screens`);
      return 8 + 16 * b[6];
    }
    case RFB_MSG.qemu: {
      if (!need(2)) return null;
      // 0: extended key event; 1: audio (enable, disable: 4 bytes; set format: 10).
      if (b[1] === 0) return 12;
      if (b[1] === 1) {
        if (!need(4)) return null;
        const op = u16(b, 2);
        if (op === 0 || op === 1) return 4;
        if (op === 2) return 10;
        throw new RfbProtocolError(`unknown QEMU audio operation ${op}`);
      }
      throw new RfbProtocolError(`unknown QEMU client message ${b[1]}`);
    }
    default:
      throw new RfbProtocolError(`unknown client message type ${b[0]}`);
  }
}

const VERSION = /^RFB (\d{3})\.(\d{3})\n$/;

/**
 * One client's stream: push() what it sent, get back the bytes to pass on (whole messages only;
 * a viewer's input left out). The handshake (version, security type None, ClientInit) passes as is.
 * What comes back are views of the chunk pushed (no copy: the caller must not reuse it), the
 * messages kept one after another joined in one view, so that an operator's chunk of whole
 * messages is passed on as it came, in one write.
 */
export class RfbClientFilter {
  private phase: Phase = 'version';
  private pending = new Uint8Array(0);
  /** Input messages dropped so far (a read-only viewer's keys and pointer). */
  dropped = 0;

  constructor(private readonly readOnly: boolean) {}

  push(chunk: Uint8Array): Uint8Array[] {
    // Usually nothing is held back from the last chunk: frame this one where it is.
    let buf = chunk;
    if (this.pending.length) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    const out: Uint8Array[] = [];
    let at = 0;
    // Where the messages kept since the last dropped one start.
    let kept = 0;
    for (;;) {
      const rest = buf.subarray(at);
      const n = this.next(rest);
      // The message's length is known but not all of it has come yet.
      if (n === null || n > rest.length) break;
      if (this.phase === 'messages' && this.readOnly && INPUT.has(rest[0]) && !this.handshaking) {
        this.dropped++;
        if (at > kept) out.push(buf.subarray(kept, at));
        kept = at + n;
      }
      this.handshaking = false;
      at += n;
    }
    if (at > kept) out.push(buf.subarray(kept, at));
    this.pending = at < buf.length ? buf.slice(at) : new Uint8Array(0);
    return out;
  }

  /** Set while the message just framed belonged to the handshake (the ClientInit byte is not a message type). */
  private handshaking = false;

  /** The length of the next unit at the head of `b`, advancing the phase; null while it is incomplete. */
  private next(b: Uint8Array): number | null {
    switch (this.phase) {
      case 'version': {
        if (b.length < 12) return null;
        const m = VERSION.exec(String.fromCharCode(...b.subarray(0, 12)));
        if (!m || m[1] !== '003') throw new RfbProtocolError('not an RFB 3.x client');
        // 3.3 has no security type selection (the server picks); 3.7 and 3.8 send one byte.
        this.phase = Number(m[2]) >= 7 ? 'security' : 'init';
        this.handshaking = true;
        return 12;
      }
      case 'security':
        if (b.length < 1) return null;
        // The display socket offers no authentication (Hangar authenticated the caller): None only.
        if (b[0] !== 1) throw new RfbProtocolError(`security type ${b[0]} (only None)`);
        this.phase = 'init';
        this.handshaking = true;
        return 1;
      case 'init':
        if (b.length < 1) return null;
        this.phase = 'messages';
        this.handshaking = true;
        return 1;
      case 'messages':
        return messageLength(b);
    }
  }
}
