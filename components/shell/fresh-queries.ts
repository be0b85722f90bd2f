import type { QueryClient } from '@tanstack/react-query';

/**
 * Read again what an event says has changed. A fetch already in flight may have been answered
 * before the change, and TanStack Query joins a query's first fetch instead of starting it
 * again: its older answer would land after the event and stay, with no event to follow (a
 * checkpoint opened on the Snapshots tab kept showing "pending"). So fetches in flight are
 * cancelled first (their queries keep what they held before), then the queries are invalidated:
 * the ones on screen fetch anew, the others are fetched when next shown.
 */
export async function refetchChanged(qc: QueryClient, queryKey: readonly unknown[]): Promise<void> {
  const filters = { queryKey };
  if (qc.isFetching(filters) > 0) await qc.cancelQueries(filters);
  await qc.invalidateQueries(filters);
}

/** Only when a fetch is in flight (the change itself is already in the cache): that fetch is made again. */
export async function refetchIfInFlight(qc: QueryClient, queryKey: readonly unknown[]): Promise<void> {
  const filters = { queryKey, exact: true };
  if (qc.isFetching(filters) === 0) return;
  await qc.cancelQueries(filters);
  await qc.refetchQueries({ ...filters, type: 'active' });
}
