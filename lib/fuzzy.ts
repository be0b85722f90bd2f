/**
 * How well `query` matches `text` as a subsequence (letters in order, gaps allowed), higher is
 * better; null when it does not. Matches at the start, after a separator and in a run score more,
 * so "wb1" finds "web-1" before "wobbly-box-1".
 */
export function fuzzyScore(query: string, text: string): number | null {
  const q = query.toLowerCase().replace(/\s+/g, '');
  if (!q) return 0;
  const t = text.toLowerCase();
  const exact = t.indexOf(q);
  if (exact >= 0) return 1000 - exact - (t.length - q.length) / 100;
  let score = 0;
  let ti = 0;
  let run = 0;
  for (const ch of q) {
    const at = t.indexOf(ch, ti);
    if (at < 0) return null;
    const boundary = at === 0 || /[\s\-_./:]/.test(t[at - 1]);
    run = at === ti ? run + 1 : 0;
    score += 10 + (boundary ? 15 : 0) + run * 5 - Math.min(10, at - ti);
    ti = at + 1;
  }
  return score - (t.length - q.length) / 100;
}
