import type { QueryClient } from '@tanstack/react-query';
import type { Machine } from '@/lib/contracts/machines';
import { keys } from '@/lib/queries';
import { FrameBatch } from '@/components/ui/next-frame';
import { refetchChanged, refetchIfInFlight } from './fresh-queries';

/** A machine as an event told it: its new record, or gone. */
export type MachineChange = { id: string; machine: Machine } | { id: string; machine: null };

/**
 * The list after a batch of changes, in one copy: records replaced in place, new machines
 * appended, removed ones dropped; the last change of a machine wins. The same array when
 * nothing in it changed, so nothing re-renders for machines it does not hold.
 */
export function mergeMachines(list: Machine[], changes: MachineChange[]): Machine[] {
  const last = new Map<string, Machine | null>();
  for (const c of changes) {
    last.delete(c.id);
    last.set(c.id, c.machine);
  }
  let changed = false;
  const out: Machine[] = [];
  for (const m of list) {
    if (!last.has(m.id)) {
      out.push(m);
      continue;
    }
    const next = last.get(m.id)!;
    last.delete(m.id);
    changed = true;
    if (next) out.push(next);
  }
  for (const m of last.values())
    if (m) {
      out.push(m);
      changed = true;
    }
  return changed ? out : list;
}

/**
 * machine:update and machine:removed events, applied to the query cache once per frame: with a
 * thousand machines changing state every second, updating the list per event would render the
 * list hundreds of times a second. A machine's own query is updated only where a page holds it.
 */
export function machineEventBatch(qc: QueryClient, schedule?: (fn: () => void) => () => void): FrameBatch<MachineChange> {
  // A fetch in flight when a change arrives may have been answered before it: its answer would
  // put the old record back with no event to follow (a page opened just before a pause kept
  // showing "running"). Such a query is fetched again; the answer in flight is dropped.
  const again = (key: readonly unknown[]) => void refetchIfInFlight(qc, key);
  return new FrameBatch<MachineChange>((changes) => {
    qc.setQueryData<Machine[]>(keys.machines(), (list) => (list ? mergeMachines(list, changes) : list));
    again(keys.machines());
    let removed = false;
    const latest = new Map<string, MachineChange>();
    for (const c of changes) latest.set(c.id, c);
    for (const c of latest.values()) {
      if (!c.machine) {
        removed = true;
        continue;
      }
      // The machine page may be open under its id or its name.
      for (const key of [keys.machine(c.machine.id), keys.machine(c.machine.name)]) {
        if (qc.getQueryData(key) !== undefined) qc.setQueryData(key, c.machine);
        again(key);
      }
    }
    // What else a removal changes (counts, the machine's own query) comes from the server.
    if (removed) void refetchChanged(qc, keys.machines());
  }, schedule);
}
