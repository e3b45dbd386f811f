// Task status reports from agents, written in batches (one store transaction per ~100 ms) and only forward.
// A batch holding a stopped or failed task is written after ~10 ms: load balancers wait on it.
import {
  InvalidArgument,
  isTerminal,
  PermissionDenied,
  canMoveTo,
  isTaskState,
  type TaskStatus,
} from '../../api/index.js';
import type { MemoryStore } from '../store/index.js';

export interface StatusUpdate {
  taskId: string;
  status: TaskStatus;
}

const FLUSH_MS = 100;
const URGENT_MS = 10;
const MAX_PER_TX = 200;

export function validateUpdates(req: unknown): StatusUpdate[] {
  const updates = (req as { updates?: unknown })?.updates;
  if (!Array.isArray(updates)) throw new InvalidArgument('UpdateTaskStatus: updates must be a list');
  for (const u of updates as StatusUpdate[]) {
    if (typeof u?.taskId !== 'string' || !u.status || !isTaskState(u.status.State))
      throw new InvalidArgument('UpdateTaskStatus: each update needs a taskId and a valid status');
  }
  return updates as StatusUpdate[];
}

interface Queued extends StatusUpdate {
  nodeId: string;
}

export class StatusBatcher {
  private queue: Queued[] = [];
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private urgent = false;

  constructor(private readonly store: MemoryStore) {}

  /** Resolves once the updates are written (or skipped as stale); rejects if a task belongs to another node. */
  submit(nodeId: string, updates: StatusUpdate[]): Promise<void> {
    const wrong = this.store.view((tx) =>
      updates.find((u) => {
        const t = tx.get('task', u.taskId);
        return t && t.NodeID !== nodeId;
      }),
    );
    if (wrong) throw new PermissionDenied(`task ${wrong.taskId} is not assigned to node ${nodeId}`);
    for (const u of updates) this.queue.push({ ...u, nodeId });
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    if (!this.urgent && updates.some((u) => isTerminal(u.status.State))) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.urgent = true;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.urgent ? URGENT_MS : FLUSH_MS);
    return done;
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    this.urgent = false;
    const queue = this.queue;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    // The latest report per task wins; reports for deleted tasks are dropped.
    const latest = new Map<string, Queued>();
    for (const u of queue) {
      const prev = latest.get(u.taskId);
      if (!prev || !canMoveTo(u.status.State, prev.status.State)) latest.set(u.taskId, u);
    }
    try {
      const all = [...latest.values()];
      for (let i = 0; i < all.length; i += MAX_PER_TX) {
        const chunk = all.slice(i, i + MAX_PER_TX);
        await this.store.update((tx) => {
          for (const u of chunk) {
            const t = tx.get('task', u.taskId);
            if (!t || t.NodeID !== u.nodeId) continue;
            const same = t.Status.State === u.status.State;
            if (!same && !canMoveTo(t.Status.State, u.status.State)) continue;
            if (same && JSON.stringify(t.Status) === JSON.stringify(u.status)) continue;
            t.Status = u.status;
            tx.update('task', t);
          }
        });
      }
      for (const w of waiters) w.resolve();
    } catch (err) {
      for (const w of waiters) w.reject(err);
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const waiters = this.waiters;
    this.queue = [];
    this.waiters = [];
    for (const w of waiters) w.reject(new Error('dispatcher stopped'));
  }
}
