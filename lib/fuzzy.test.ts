import { describe, expect, it } from 'vitest';
import { fuzzyScore } from './fuzzy';

describe('fuzzyScore', () => {
  it('matches letters in order, and refuses what is not there', () => {
    expect(fuzzyScore('wb1', 'web-1')).not.toBeNull();
    expect(fuzzyScore('1bw', 'web-1')).toBeNull();
    expect(fuzzyScore('', 'anything')).toBe(0);
  });

  it('ranks a substring above a scattered match, and word starts above letters inside words', () => {
    const rank = (q: string, items: string[]) =>
      items
        .map((t) => ({ t, s: fuzzyScore(q, t) }))
        .filter((x) => x.s !== null)
        .sort((a, b) => b.s! - a.s!)
        .map((x) => x.t);
    expect(rank('web', ['cobweb-ish', 'w-e-b', 'web-1'])).toEqual(['web-1', 'cobweb-ish', 'w-e-b']);
    expect(rank('sm', ['stop machine', 'assembly'])[0]).toBe('stop machine');
    expect(fuzzyScore('Stop WEB', 'stop web-1')).not.toBeNull();
  });
});
