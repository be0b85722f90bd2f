import { EventEmitter } from 'node:events';
import type { EventsServerToClient } from '@/lib/events';

type Args<K extends keyof EventsServerToClient> = Parameters<EventsServerToClient[K]>;

/** In-process bus: core services publish, the /events socket namespace forwards. */
export class EventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every open /events socket namespace subscribes once, not per client.
    this.emitter.setMaxListeners(100);
  }

  publish<K extends keyof EventsServerToClient>(event: K, ...args: Args<K>): void {
    this.emitter.emit(event, ...args);
  }

  subscribe<K extends keyof EventsServerToClient>(event: K, fn: (...args: Args<K>) => void): () => void {
    const listener = fn as (...a: unknown[]) => void;
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }
}
