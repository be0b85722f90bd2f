import { useSyncExternalStore } from 'react';

/** The two snapshots being compared (the Compare buttons of the tree's rows pick them): A first, then B. */
export interface ComparePick {
  a: string | null;
  b: string | null;
}

let pick: ComparePick = { a: null, b: null };
const listeners = new Set<() => void>();

export function setPick(next: ComparePick): void {
  pick = next;
  for (const l of listeners) l();
}

/** A first click picks A; a click on another row picks B (and shows the diff); a click on A again drops the pick. */
export function toggle(id: string): void {
  if (pick.a === id) setPick({ a: pick.b, b: null });
  else if (!pick.a) setPick({ a: id, b: null });
  else setPick({ a: pick.a, b: id });
}

export function useComparePick(): ComparePick {
  return useSyncExternalStore(
    (l) => (listeners.add(l), () => listeners.delete(l)),
    () => pick,
    () => pick,
  );
}
