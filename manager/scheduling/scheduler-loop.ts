// Leader-only: places new tasks meant to run. Each pass indexes the nodes and the tasks holding them, asks the
// pure scheduler for a batch placement, and writes ASSIGNED + NodeID (or the reason nothing fits) to the store.
import { createLogger, errorMessage, taskStateRank, type Logger, type Task } from '../../api/index.js';
import { Scheduler } from '../../scheduler/index.js';
import { batchUpdate, type BatchUnit, type MemoryStore, type StoreEvent } from '../store/index.js';

const COALESCE_MS = 10;
/** Unplaceable tasks are tried again this often even when nothing changes. */
const RETRY_MS = 1000;

const rank = taskStateRank;
const holdsNode = (t: Task) =>
  t.NodeID !== undefined &&
  rank(t.Status.State) >= rank('assigned') &&
  rank(t.Status.State) <= rank('running') &&
  rank(t.DesiredState) <= rank('running');
const waiting = (t: Task) => rank(t.Status.State) < rank('assigned') && t.DesiredState === 'running';

export class SchedulerLoop {
  private timer?: NodeJS.Timeout;
  private unwatch?: () => void;
  private running = false;
  private busy = false;
  private again = false;
  private readonly log: Logger;

  constructor(
    private readonly store: MemoryStore,
    log?: Logger,
  ) {
    this.log = log ?? createLogger({ component: 'scheduler' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unwatch = this.store.watch((events) => {
      if (events.some(relevant)) this.soon(COALESCE_MS);
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
    if (this.timer) return;
    this.timer = setTimeout(() => void this.pass(), ms);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    this.busy = true;
    let retry = false;
    try {
      const { nodes, tasks } = this.store.view((tx) => ({ nodes: tx.all('node'), tasks: tx.all('task') }));
      const pending = tasks.filter(waiting);
      if (pending.length) {
        const s = new Scheduler();
        for (const n of nodes) s.setNode(n);
        for (const t of tasks) if (holdsNode(t)) s.addTask(t);
        // Global services' tasks come with their node: they are assigned there once it is ready.
        const ready = new Set(nodes.filter((n) => n.Status.State === 'ready').map((n) => n.ID));
        const pinned = pending.filter((t) => t.NodeID);
        const { assignments, failures } = s.schedule(pending.filter((t) => !t.NodeID));
        for (const t of pinned)
          if (ready.has(t.NodeID!)) assignments.push({ taskId: t.ID, nodeId: t.NodeID! });
        const now = new Date().toISOString();
        const units: BatchUnit[] = [
          ...assignments.map((a): BatchUnit => (tx) => {
            const t = tx.get('task', a.taskId);
            if (!t || !waiting(t)) return;
            t.NodeID = a.nodeId;
            t.Status = { Timestamp: now, State: 'assigned', Message: 'scheduler assigned task to node' };
            tx.update('task', t);
          }),
          ...failures.map((f): BatchUnit => (tx) => {
            const t = tx.get('task', f.taskId);
            if (!t || !waiting(t) || (t.Status.State === 'pending' && t.Status.Err === f.reason)) return;
            t.Status = {
              Timestamp: now,
              State: 'pending',
              Message: 'pending task scheduling',
              Err: f.reason,
            };
            tx.update('task', t);
          }),
        ];
        retry = failures.length > 0;
        await batchUpdate(this.store, units);
      }
    } catch (err) {
      this.log.warn('scheduling pass failed; retrying', { err: errorMessage(err) });
      retry = true;
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      this.soon(COALESCE_MS);
    } else if (retry) this.soon(RETRY_MS);
  }
}

function relevant(e: StoreEvent): boolean {
  return e.kind === 'node' || e.kind === 'task';
}
