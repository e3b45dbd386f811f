// Leader-only: places allocated (PENDING) tasks meant to run. Each pass indexes the nodes and the tasks holding them, asks the
// pure scheduler for a batch placement, and writes ASSIGNED + NodeID (or the reason nothing fits) to the store.
import { createLogger, taskStateRank, type Logger, type Task } from '../../api/index.js';
import { Scheduler } from '../../scheduler/index.js';
import { batchUpdate, type BatchUnit, type MemoryStore } from '../store/index.js';
import { StoreLoop, taskChangeMatters } from '../store-loop.js';

/** Unplaceable tasks are tried again this often even when nothing changes. */
const RETRY_MS = 1000;

const rank = taskStateRank;
const holdsNode = (t: Task) =>
  t.NodeID !== undefined &&
  rank(t.Status.State) >= rank('assigned') &&
  rank(t.Status.State) <= rank('running') &&
  rank(t.DesiredState) <= rank('running');
// Desired READY too: a stop-first replacement is placed and prepared while the task it replaces stops.
// Only PENDING: the allocator moves NEW tasks there once their networks and ports are allocated.
const waiting = (t: Task) => t.Status.State === 'pending' && rank(t.DesiredState) <= rank('running');

/** A task update that can alter a placement: a task to place, or one taking or freeing room on a node. */
const placementChange = (t: Task, old: Task): boolean => waiting(t) || holdsNode(t) !== holdsNode(old);

export class SchedulerLoop {
  private readonly loop: StoreLoop;

  constructor(
    private readonly store: MemoryStore,
    log?: Logger,
  ) {
    this.loop = new StoreLoop(store, {
      relevant: (e) => e.kind === 'node' || (e.kind === 'task' && taskChangeMatters(e, placementChange)),
      coalesceMs: 10,
      pass: () => this.pass(),
      retryMs: RETRY_MS,
      log: log ?? createLogger({ component: 'scheduler' }),
      what: 'scheduling',
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  /** Resolves with when to try again (tasks nothing could take), or undefined to wait for changes. */
  private async pass(): Promise<number | undefined> {
    const { nodes, tasks } = this.store.view((tx) => ({ nodes: tx.all('node'), tasks: tx.all('task') }));
    const pending = tasks.filter(waiting);
    if (pending.length === 0) return undefined;
    const s = new Scheduler();
    for (const n of nodes) s.setNode(n);
    for (const t of tasks) if (holdsNode(t)) s.addTask(t);
    // Global services' tasks come with their node: they are assigned there once it is ready.
    const ready = new Set(nodes.filter((n) => n.Status.State === 'ready').map((n) => n.ID));
    const pinned = pending.filter((t) => t.NodeID);
    const { assignments, failures } = s.schedule(pending.filter((t) => !t.NodeID));
    for (const t of pinned) if (ready.has(t.NodeID!)) assignments.push({ taskId: t.ID, nodeId: t.NodeID! });
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
    await batchUpdate(this.store, units);
    return failures.length > 0 ? RETRY_MS : undefined;
  }
}
