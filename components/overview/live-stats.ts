'use client';

import { useSyncExternalStore } from 'react';
import type { HostStatsTick, MachineStatsSample, MachineStatsTick } from '@/lib/contracts/stats';

/** Samples kept per machine in the browser: six minutes, like the server. */
const KEEP = 180;
const EMPTY: MachineStatsSample[] = [];
const NO_HOST: HostStatsTick[] = [];

type Listener = () => void;

/**
 * Live figures outside React Query: ticks arrive every 2 s for every running machine, and each
 * row's sparkline subscribes to its own machine only, so a tick re-renders the sparklines that
 * changed and never the whole list.
 */
class LiveStats {
  private readonly series = new Map<string, MachineStatsSample[]>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private host: HostStatsTick[] = NO_HOST;
  private readonly hostListeners = new Set<Listener>();

  /** Samples fetched from the API (history), merged with what arrived live meanwhile. */
  seed(id: string, samples: MachineStatsSample[]): void {
    const have = this.series.get(id) ?? EMPTY;
    const after = have.length ? have[0].t : Infinity;
    this.set(id, [...samples.filter((s) => s.t < after), ...have].slice(-KEEP));
  }

  push(tick: MachineStatsTick): void {
    for (const { id, ...s } of tick.items) {
      const have = this.series.get(id) ?? EMPTY;
      if (have.length && have[have.length - 1].t >= s.t) continue;
      this.set(id, have.length >= KEEP ? [...have.slice(1 - KEEP), s] : [...have, s]);
    }
  }

  /** Ticks fetched from the API, before those that arrived live. */
  seedHost(ticks: HostStatsTick[]): void {
    const after = this.host.length ? this.host[0].t : Infinity;
    this.host = [...ticks.filter((t) => t.t < after), ...this.host].slice(-KEEP);
    for (const fn of this.hostListeners) fn();
  }

  pushHost(tick: HostStatsTick): void {
    this.host = [...this.host.slice(1 - KEEP), tick];
    for (const fn of this.hostListeners) fn();
  }

  forget(id: string): void {
    this.set(id, EMPTY);
    this.series.delete(id);
  }

  get(id: string): MachineStatsSample[] {
    return this.series.get(id) ?? EMPTY;
  }

  last(id: string): MachineStatsSample | undefined {
    const s = this.series.get(id);
    return s?.[s.length - 1];
  }

  hostSeries(): HostStatsTick[] {
    return this.host;
  }

  subscribe(id: string, fn: Listener): () => void {
    const set = this.listeners.get(id) ?? new Set<Listener>();
    set.add(fn);
    this.listeners.set(id, set);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.listeners.delete(id);
    };
  }

  subscribeHost(fn: Listener): () => void {
    this.hostListeners.add(fn);
    return () => this.hostListeners.delete(fn);
  }

  private set(id: string, samples: MachineStatsSample[]): void {
    this.series.set(id, samples);
    for (const fn of this.listeners.get(id) ?? []) fn();
  }
}

export const liveStats = new LiveStats();

/** A machine's samples, oldest first; re-renders when a new one arrives. */
export function useMachineStats(id: string): MachineStatsSample[] {
  return useSyncExternalStore(
    (fn) => liveStats.subscribe(id, fn),
    () => liveStats.get(id),
    () => EMPTY,
  );
}

export function useHostStats(): HostStatsTick[] {
  return useSyncExternalStore(
    (fn) => liveStats.subscribeHost(fn),
    () => liveStats.hostSeries(),
    () => NO_HOST,
  );
}
