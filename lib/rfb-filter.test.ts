import { describe, expect, it } from 'vitest';
import { RFB_LIMITS, RfbClientFilter, RfbProtocolError } from './rfb-filter';

const bytes = (...parts: (number[] | string)[]) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...p].map((c) => c.charCodeAt(0)) : p)));
const handshake = bytes('RFB 003.008\n', [1], [1]);
const key = bytes([4, 1, 0, 0, 0, 0, 0, 0x61]);
const pointer = bytes([5, 1, 0, 10, 0, 20]);
const update = bytes([3, 1, 0, 0, 0, 0, 2, 208, 1, 144]);
const cut = (text: string) => bytes([6, 0, 0, 0, 0, 0, 0, text.length], text);
const joined = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

describe('RfbClientFilter', () => {
  it("passes an operator's whole stream, message by message, however it is split", () => {
    const f = new RfbClientFilter(false);
    const all = joined([handshake, update, key, pointer, cut('hi'), bytes([2, 0, 0, 2, 0, 0, 0, 0, 0xff, 0xff, 0xfe, 0xfe])]);
    const out: Uint8Array[] = [];
    for (let i = 0; i < all.length; i += 3) out.push(...f.push(all.subarray(i, i + 3)));
    expect(joined(out)).toEqual(all);
    expect(f.dropped).toBe(0);
  });

  it("drops a viewer's keys, pointer, clipboard and QEMU key events, and passes its screen requests", () => {
    const f = new RfbClientFilter(true);
    const qemuKey = bytes([255, 0, 0, 1, 0, 0, 0, 0x61, 0, 0, 0, 30]);
    const out = f.push(joined([handshake, key, update, pointer, cut('secret'), qemuKey, update]));
    expect(joined(out)).toEqual(joined([handshake, update, update]));
    expect(f.dropped).toBe(4);
  });

  it("hands an operator's chunk of whole messages back as one view of it (no copy, one write); a viewer's input splits it", () => {
    const op = new RfbClientFilter(false);
    op.push(handshake);
    const chunk = joined([update, key, pointer, update]);
    const out = op.push(chunk);
    expect(out).toHaveLength(1);
    expect(out[0].buffer).toBe(chunk.buffer);
    expect(out[0]).toEqual(chunk);
    const viewer = new RfbClientFilter(true);
    viewer.push(handshake);
    expect(viewer.push(joined([update, key, update, update]))).toEqual([update, joined([update, update])]);
  });

  it('takes an RFB 3.3 client, which sends no security type', () => {
    const f = new RfbClientFilter(true);
    expect(joined(f.push(joined([bytes('RFB 003.003\n', [1]), update])))).toEqual(joined([bytes('RFB 003.003\n', [1]), update]));
  });

  it('refuses what is not RFB: a bad version, another security type, an unknown message, oversized ones', () => {
    expect(() => new RfbClientFilter(false).push(bytes('GET / HTTP/1.1\r\n'))).toThrow(RfbProtocolError);
    expect(() => new RfbClientFilter(false).push(bytes('RFB 003.008\n', [2]))).toThrow(/security type 2/);
    expect(() => new RfbClientFilter(false).push(joined([handshake, bytes([7, 0, 0])]))).toThrow(/unknown client message type 7/);
    expect(() => new RfbClientFilter(false).push(joined([handshake, bytes([2, 0, 0xff, 0xff])]))).toThrow(/encodings/);
    const big = RFB_LIMITS.cutText + 1;
    expect(() =>
      new RfbClientFilter(true).push(joined([handshake, bytes([6, 0, 0, 0, (big >>> 24) & 255, (big >>> 16) & 255, (big >>> 8) & 255, big & 255])])),
    ).toThrow(/ClientCutText/);
  });
});
