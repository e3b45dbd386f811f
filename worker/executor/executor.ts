// The boundary between the agent (assignments from the dispatcher, status reports back) and whatever runs tasks:
// the runtime-backed executor on real nodes, a fake one in integration tests.
import type { Task, TaskStatus } from '../../api/index.js';

/** One observed change of a task on this node; `status.State` only ever moves forward. */
export interface TaskStatusReport {
  taskId: string;
  status: TaskStatus;
}

export interface Executor {
  /**
   * The complete set of tasks the dispatcher assigns to this node now. Each task is driven towards its
   * `DesiredState` (RUNNING: pull, create, start; SHUTDOWN: stop with the grace period; REMOVE: stop and remove
   * its container). A task absent from the set is stopped and its container removed.
   */
  setAssignments(tasks: Task[]): void;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (report: TaskStatusReport) => void): () => void;
  /** Adopts what survived a daemon restart (containers labelled with their task) before the first assignments. */
  start(): Promise<void>;
  /** Stops watching; leaves containers running (live restore). */
  stop(): Promise<void>;
}
