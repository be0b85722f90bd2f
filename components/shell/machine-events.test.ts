import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { describe, expect, it, vi } from 'vitest';
import type { Machine } from '@/lib/contracts/machines';
import { keys } from '@/lib/queries';
import { FrameBatch } from '@/components/ui/next-frame';
import { machineEventBatch, mergeMachines } from './machine-events';

// mergeMachines reads ids only; the rest of a record rides along.
const m = (id: string, state: Machine['state'] = 'running') => ({ id, name: `n-${id}`, state }) as Machine;

describe('mergeMachines', () => {
  it('replaces in place, appends new machines, drops removed ones, last change wins', () => {
    const list = [m('a'), m('b'), m('c')];
    const out = mergeMachines(list, [
      { id: 'b', machine: m('b', 'paused') },
      { id: 'd', machine: m('d') },
      { id: 'c', machine: null },
      { id: 'b', machine: m('b', 'stopped') },
      { id: 'e', machine: m('e') },
      { id: 'e', machine: null },
    ]);
    expect(out.map((x) => `${x.id}:${x.state}`)).toEqual(['a:running', 'b:stopped', 'd:running']);
    expect(out[0]).toBe(list[0]);
    expect(list.map((x) => x.id)).toEqual(['a', 'b', 'c']);
  });

  it('keeps the same array when no change touches it', () => {
    const list = [m('a')];
    expect(mergeMachines(list, [{ id: 'zz', machine: null }])).toBe(list);
  });
});

describe('FrameBatch', () => {
  it('applies everything pushed before the frame once, and nothing after dispose', () => {
    const frames: (() => void)[] = [];
    const applied: number[][] = [];
    const batch = new FrameBatch<number>(
      (items) => applied.push(items),
      (fn) => {
        frames.push(fn);
        return () => frames.splice(frames.indexOf(fn), 1);
      },
    );
    for (let i = 0; i < 5; i++) batch.push(i);
    expect(frames).toHaveLength(1);
    frames.shift()!();
    expect(applied).toEqual([[0, 1, 2, 3, 4]]);
    batch.push(5);
    batch.flush();
    expect(applied).toEqual([[0, 1, 2, 3, 4], [5]]);
    expect(frames).toHaveLength(0);
    batch.push(6);
    expect(batch.dispose()).toEqual([6]);
    expect(frames).toHaveLength(0);
  });
});

describe('machineEventBatch', () => {
  it('updates the list once per batch, and a machine query only where a page holds one', () => {
    const qc = new QueryClient();
    qc.setQueryData(keys.machines(), [m('a'), m('b')]);
    qc.setQueryData(keys.machine('n-a'), m('a'));
    let renders = 0;
    qc.getQueryCache().subscribe((e) => {
      if (e.type === 'updated' && e.query.queryHash === JSON.stringify(keys.machines())) renders++;
    });
    const batch = machineEventBatch(qc, () => () => undefined);
    batch.push({ id: 'a', machine: m('a', 'paused') });
    batch.push({ id: 'b', machine: m('b', 'stopping') });
    batch.push({ id: 'a', machine: m('a', 'stopped') });
    batch.flush();
    expect(renders).toBe(1);
    expect(qc.getQueryData<Machine[]>(keys.machines())!.map((x) => x.state)).toEqual(['stopped', 'stopping']);
    expect(qc.getQueryData<Machine>(keys.machine('n-a'))!.state).toBe('stopped');
    expect(qc.getQueryData(keys.machine('b'))).toBeUndefined();
    expect(qc.getQueryData(keys.machine('n-b'))).toBeUndefined();
    batch.push({ id: 'b', machine: null });
    batch.flush();
    expect(qc.getQueryData<Machine[]>(keys.machines())!.map((x) => x.id)).toEqual(['a']);
    qc.clear();
  });

  it('fetches a machine again when a change arrives while its first fetch is in flight: the older answer is not kept', async () => {
    const qc = new QueryClient();
    const answers: ((x: Machine) => void)[] = [];
    const observer = new QueryObserver(qc, { queryKey: keys.machine('n-a'), queryFn: () => new Promise<Machine>((resolve) => answers.push(resolve)) });
    const seen: Machine['state'][] = [];
    const stop = observer.subscribe((r) => r.data && seen.push(r.data.state));
    expect(answers).toHaveLength(1);
    const batch = machineEventBatch(qc, () => () => undefined);
    batch.push({ id: 'a', machine: m('a', 'paused') });
    batch.flush();
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    // The first GET was answered before the pause; the second after it.
    answers[0](m('a', 'running'));
    answers[1](m('a', 'paused'));
    await vi.waitFor(() => expect(qc.getQueryData<Machine>(keys.machine('n-a'))?.state).toBe('paused'));
    expect(seen).not.toContain('running');
    stop();
    qc.clear();
  });
});
