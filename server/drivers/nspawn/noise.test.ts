import { describe, expect, it } from 'vitest';
import { dropNspawnNoise } from './noise';

const NOISE = 'Attempted to remove disk file system under "/run/systemd/nspawn/propagate/ct-1", and we can\u2019t allow that.\n';

function through(chunks: string[]): { out: string[] } {
  const out: string[] = [];
  const f = dropNspawnNoise((t) => out.push(t));
  for (const c of chunks) f.push(c);
  f.end();
  return { out };
}

describe('dropNspawnNoise', () => {
  it('drops the propagation-dir complaint, even split over chunks', () => {
    expect(through(['err 1\n', NOISE.slice(0, 10), NOISE.slice(10)]).out.join('')).toBe('err 1\n');
  });

  it('passes a prompt without a newline at once, and mid-line text that looks like the noise', () => {
    const out: string[] = [];
    const f = dropNspawnNoise((t) => out.push(t));
    f.push('password: ');
    expect(out).toEqual(['password: ']);
    f.push(NOISE);
    expect(out.join('')).toBe(`password: ${NOISE}`);
  });

  it('keeps a line that only starts like the noise', () => {
    expect(through(['Attempted', ' something else\n']).out.join('')).toBe('Attempted something else\n');
    expect(through(['Attem']).out.join('')).toBe('Attem');
  });
});
