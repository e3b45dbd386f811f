// Grouping a service's tasks into slots: the unit the orchestrators reconcile.
import { taskStateRank, type Task } from '../../api/index.js';

/** Desired states at or before RUNNING: the task is meant to run (or to be started after a restart delay). */
export function isRunnable(t: Task): boolean {
  return taskStateRank(t.DesiredState) <= taskStateRank('running');
}

/** Key of a task's slot: its slot number for replicated services, its node for global ones. */
export function slotKey(t: Task): string {
  return t.Slot !== undefined ? `slot:${t.Slot}` : `node:${t.NodeID ?? ''}`;
}

export interface Slot {
  key: string;
  /** Tasks of the slot meant to run (normally exactly one). */
  runnable: Task[];
  /** Finished or to-be-stopped tasks kept as history. */
  history: Task[];
}

export function groupSlots(tasks: Task[]): Map<string, Slot> {
  const out = new Map<string, Slot>();
  for (const t of tasks) {
    const key = slotKey(t);
    let s = out.get(key);
    if (!s) out.set(key, (s = { key, runnable: [], history: [] }));
    (isRunnable(t) ? s.runnable : s.history).push(t);
  }
  return out;
}
