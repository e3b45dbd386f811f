// The node's event stream: a bounded history (for `since` replays, as dockerd's buffer) and the live
// subscribers of GET /events. A manager attaches its store's watch, so every manager, leader or follower,
// publishes the swarm events of the changes it applies.
import { errorMessage, type Logger } from '../../api/index.js';
import type { Filters } from '../controlapi/filters.js';
import type { MemoryStore } from '../store/index.js';
import { eventMatches } from './filter.js';
import { eventsOfChange, type EventMessage, type TimedEvent } from './message.js';

export const DEFAULT_HISTORY = 1000;

export interface EventsHubOptions {
  /** Events kept for replays (default 1000). */
  history?: number;
  /** Clock for removals, which carry no time of their own (ms since the epoch). */
  now?: () => number;
}

export interface SubscribeOptions {
  /** Replay kept events from this time on (nanoseconds since the epoch). */
  since?: bigint;
  /** Replay and deliver events up to this time only. */
  until?: bigint;
  filters: Filters;
}

interface Subscriber {
  filters: Filters;
  until?: bigint;
  deliver: (m: EventMessage) => void;
}

export class EventsHub {
  private ring: TimedEvent[] = [];
  private next = 0;
  private readonly limit: number;
  private readonly now: () => number;
  private readonly subscribers = new Set<Subscriber>();
  private readonly watches = new Set<() => void>();

  constructor(opts: EventsHubOptions = {}) {
    this.limit = Math.max(1, opts.history ?? DEFAULT_HISTORY);
    this.now = opts.now ?? Date.now;
  }

  /**
   * Publishes the swarm events of `store`'s committed changes until the returned function is called.
   * Nothing thrown here reaches the store (whose other watchers must still hear the change).
   */
  attach(store: MemoryStore, log?: Logger): () => void {
    const unwatch = store.watch((changes) => {
      const now = this.now();
      for (const c of changes) {
        try {
          for (const e of eventsOfChange(c, now)) this.publish(e);
        } catch (err) {
          log?.warn('no event for a store change', { kind: c.kind, id: c.obj?.ID, err: errorMessage(err) });
        }
      }
    });
    const detach = () => {
      unwatch();
      this.watches.delete(detach);
    };
    this.watches.add(detach);
    return detach;
  }

  publish(e: TimedEvent): void {
    if (this.ring.length < this.limit) this.ring.push(e);
    else this.ring[this.next] = e;
    this.next = (this.next + 1) % this.limit;
    for (const s of this.subscribers) {
      if (s.until !== undefined && e.ns > s.until) continue;
      if (!eventMatches(s.filters, e.message)) continue;
      try {
        s.deliver(e.message);
      } catch {
        // A failing subscriber (a broken connection) is removed by its own close handler; others go on.
      }
    }
  }

  /** Kept events in the window that pass the filters, oldest first (none when neither bound is given). */
  history(opts: SubscribeOptions): EventMessage[] {
    if (opts.since === undefined && opts.until === undefined) return [];
    const ordered =
      this.ring.length < this.limit
        ? this.ring
        : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    // Every kept event is checked: events applied late (a follower catching up) may be older than later ones.
    return ordered
      .filter(
        (e) =>
          (opts.since === undefined || e.ns >= opts.since) &&
          (opts.until === undefined || e.ns <= opts.until) &&
          eventMatches(opts.filters, e.message),
      )
      .map((e) => e.message);
  }

  /**
   * The kept events of the window, then every new matching event to `deliver` until `unsubscribe`.
   * Both happen without a gap: no event is published between taking the history and subscribing.
   */
  subscribe(
    opts: SubscribeOptions,
    deliver: (m: EventMessage) => void,
  ): { buffered: EventMessage[]; unsubscribe: () => void } {
    const buffered = this.history(opts);
    const s: Subscriber = { filters: opts.filters, until: opts.until, deliver };
    this.subscribers.add(s);
    return { buffered, unsubscribe: () => void this.subscribers.delete(s) };
  }

  /** Live subscribers (open GET /events streams). */
  get subscriberCount(): number {
    return this.subscribers.size;
  }

  /** Stores attached now (1 on a manager, 0 elsewhere). */
  get attachedStores(): number {
    return this.watches.size;
  }

  /** Number of events kept for replays. */
  get size(): number {
    return this.ring.length;
  }
}
