// Task status reports on their way to the dispatcher: the latest per task, sent every ~100 ms in one call, and
// kept for the next attempt when the call fails (a leader change), unless a newer report replaced them.
// A task that stopped (or failed its health check) goes out at once: load balancers everywhere wait on it.
import { isTerminal, type TaskStatus } from '../api/index.js';
import type { TaskStatusReport } from './executor/executor.js';

const FLUSH_MS = 100;

export class TaskReports {
  private pending = new Map<string, TaskStatus>();
  private timer?: NodeJS.Timeout;
  private sending = false;

  constructor(private readonly send: (updates: TaskStatusReport[]) => Promise<void>) {}

  add(r: TaskStatusReport): void {
    this.pending.set(r.taskId, r.status);
    if (!isTerminal(r.status.State)) return this.schedule();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.schedule(0);
  }

  /** Sends what is pending now (e.g. once a session is back). */
  schedule(delayMs = FLUSH_MS): void {
    if (this.timer || this.pending.size === 0) return;
    this.timer = setTimeout(() => void this.flush(), delayMs);
    this.timer.unref();
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.sending || this.pending.size === 0) return;
    this.sending = true;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.send([...batch].map(([taskId, status]) => ({ taskId, status })));
    } catch {
      for (const [id, status] of batch) if (!this.pending.has(id)) this.pending.set(id, status);
      this.sending = false;
      this.schedule(1000);
      return;
    }
    this.sending = false;
    this.schedule();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
