// A leader-side loop over the store: runs a pass when relevant committed changes arrive (coalesced), when the
// previous pass asked to run again after a delay, and never two passes at once. A failed pass retries soon.
import { errorMessage, type Logger, type Task } from '../api/index.js';
import type { MemoryStore, StoreEvent } from './store/index.js';

export interface StoreLoopOptions {
  /** Changes that call for a pass. */
  relevant: (e: StoreEvent) => boolean;
  /** Delay between a change and the pass, so a burst of changes makes one pass. */
  coalesceMs: number;
  /** One pass; resolves with when to run again even without changes (ms), or undefined for "on change only". */
  pass: () => Promise<number | undefined>;
  /** Retry delay after a pass that threw. */
  retryMs: number;
  log: Logger;
  what: string;
}

/**
 * Whether a task event calls for a loop's pass: every create and delete does, an update when `matters(task,
 * old)` says so. Most task writes are status reports of tasks on their way to RUNNING, which few loops act on.
 */
export function taskChangeMatters(e: StoreEvent, matters: (task: Task, old: Task) => boolean): boolean {
  const old = e.old as Task | undefined;
  return e.op !== 'update' || !old || matters(e.obj as Task, old);
}

export class StoreLoop {
  private timer?: NodeJS.Timeout;
  private due = 0;
  private unwatch?: () => void;
  private running = false;
  private busy = false;
  private again = false;

  constructor(
    private readonly store: MemoryStore,
    private readonly o: StoreLoopOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unwatch = this.store.watch((events) => {
      if (events.some(this.o.relevant)) this.soon(this.o.coalesceMs);
    });
    this.soon(0);
  }

  stop(): void {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private soon(ms: number): void {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    // Never postpone a pass already due sooner (a stream of events must not starve it).
    const due = Date.now() + ms;
    if (this.timer && this.due <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => void this.run(), ms);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    this.busy = true;
    let next: number | undefined;
    try {
      next = await this.o.pass();
    } catch (err) {
      this.o.log.warn(`${this.o.what} pass failed; retrying`, { err: errorMessage(err) });
      next = this.o.retryMs;
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      next = Math.min(next ?? Infinity, this.o.coalesceMs);
    }
    if (next !== undefined) this.soon(next);
  }
}
