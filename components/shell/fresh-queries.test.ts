import { InfiniteQueryObserver, QueryClient, QueryObserver } from '@tanstack/react-query';
import { describe, expect, it, vi } from 'vitest';
import { refetchChanged } from './fresh-queries';

type Page = { items: string[]; next: string | null };

describe('refetchChanged', () => {
  it("an event during a list's first fetch: the answer read before the change is dropped, the list is read again", async () => {
    const qc = new QueryClient();
    const answers: ((p: Page) => void)[] = [];
    const observer = new InfiniteQueryObserver(qc, {
      queryKey: ['snapshots', 'pages'],
      queryFn: () => new Promise<Page>((resolve) => answers.push(resolve)),
      initialPageParam: null as string | null,
      getNextPageParam: (last: Page) => last.next,
    });
    const stop = observer.subscribe(() => undefined);
    expect(answers).toHaveLength(1);
    // A plain invalidation is joined to the fetch in flight: this is what refetchChanged is for.
    const done = refetchChanged(qc, ['snapshots']);
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    answers[0]({ items: ['pending'], next: null });
    answers[1]({ items: ['complete'], next: null });
    await done;
    await vi.waitFor(() => expect(qc.getQueryData<{ pages: Page[] }>(['snapshots', 'pages'])?.pages[0].items).toEqual(['complete']));
    // The cancelled fetch's older answer never lands afterwards.
    await new Promise((r) => setTimeout(r, 10));
    expect(qc.getQueryData<{ pages: Page[] }>(['snapshots', 'pages'])?.pages[0].items).toEqual(['complete']);
    stop();
    qc.clear();
  });

  it('with nothing in flight it only invalidates: shown queries fetch once, others are marked stale', async () => {
    const qc = new QueryClient();
    let calls = 0;
    const observer = new QueryObserver(qc, { queryKey: ['nodes'], queryFn: async () => ++calls });
    const stop = observer.subscribe(() => undefined);
    await vi.waitFor(() => expect(qc.getQueryData(['nodes'])).toBe(1));
    qc.setQueryData(['steps'], 'kept');
    await refetchChanged(qc, ['nodes']);
    await refetchChanged(qc, ['steps']);
    expect(qc.getQueryData(['nodes'])).toBe(2);
    expect(calls).toBe(2);
    expect(qc.getQueryState(['steps'])?.isInvalidated).toBe(true);
    stop();
    qc.clear();
  });
});
