import { describe, expect, it } from 'vitest';
import { RingBuffer } from './ring-buffer';

describe('RingBuffer', () => {
  it('replays everything after an offset', () => {
    const r = new RingBuffer(100);
    r.append('hello ');
    r.append('world');
    expect(r.end).toBe(11);
    expect(r.since()).toEqual({ data: 'hello world', truncated: false });
    expect(r.since(6)).toEqual({ data: 'world', truncated: false });
    expect(r.since(11)).toEqual({ data: '', truncated: false });
  });

  it('drops the oldest output past capacity and says so', () => {
    const r = new RingBuffer(8);
    r.append('0123456789');
    r.append('ab');
    expect(r.start).toBe(4);
    expect(r.since()).toEqual({ data: '456789ab', truncated: true });
    expect(r.since(2)).toEqual({ data: '456789ab', truncated: true });
    expect(r.since(8)).toEqual({ data: '89ab', truncated: false });
  });

  it('treats an offset beyond its end as a stale viewer and replays all', () => {
    const r = new RingBuffer(10);
    r.append('abc');
    expect(r.since(50)).toEqual({ data: 'abc', truncated: true });
  });

  it('stays bounded under many tiny appends', () => {
    const r = new RingBuffer(1000);
    for (let i = 0; i < 10_000; i++) r.append('x');
    expect(r.since().data.length).toBe(1000);
    expect(r.end).toBe(10_000);
  });
});
