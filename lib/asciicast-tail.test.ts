import { describe, expect, it } from 'vitest';
import { withTail } from './asciicast-tail';

describe('withTail', () => {
  it('adds an empty output event after the last one, so a marker there stays before the end', () => {
    const cast = '{"version":2,"width":80,"height":24}\n[1.5,"o","$ "]\n[9.758,"m","command · ls"]\n';
    expect(withTail(cast)).toBe(`${cast}[9.858,"o",""]\n`);
  });

  it('leaves a cast with no events, or a torn last line, as it is', () => {
    expect(withTail('{"version":2}\n')).toBe('{"version":2}\n');
    expect(withTail('{"version":2}\n[1.5,"o","$ "]\n[2.1,"o","ab')).toBe('{"version":2}\n[1.5,"o","$ "]\n[2.1,"o","ab');
  });
});
