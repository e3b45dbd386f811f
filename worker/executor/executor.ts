// The boundary between the agent (assignments from the dispatcher, status reports back) and whatever runs tasks:
// the runtime-backed executor on real nodes, a fake one in integration tests.
import type { Config, NetworkView, Secret, Task, TaskStatus } from '../../api/index.js';
import type { LogOptions, LogSelector } from '../../manager/logs/index.js';
import type { TaskLogLine } from './task-logs.js';

/** One observed change of a task on this node; `status.State` only ever moves forward. */
export interface TaskStatusReport {
  taskId: string;
  status: TaskStatus;
}

/** The secrets and configs (with their data) the node's tasks reference, by ID, as the dispatcher sent them. */
export interface TaskDependencies {
  secrets: ReadonlyMap<string, Secret>;
  configs: ReadonlyMap<string, Config>;
}

export const NO_TASK_DEPENDENCIES: TaskDependencies = { secrets: new Map(), configs: new Map() };

export interface Executor {
  /**
   * The complete set of tasks the dispatcher assigns to this node now. Each task is driven towards its
   * `DesiredState` (RUNNING: pull, create, start; SHUTDOWN: stop with the grace period; REMOVE: stop and remove
   * its container). A task absent from the set is stopped and its container removed. `dependencies` are the
   * secrets and configs those tasks reference (kept in memory only).
   */
  setAssignments(tasks: Task[], dependencies?: TaskDependencies): void;
  /**
   * The overlay networks this node takes part in, whole (peers, services and their backends), as the dispatcher
   * sends them. Executors without networking ignore them.
   */
  setNetworks?(views: NetworkView[]): void;
  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(listener: (report: TaskStatusReport) => void): () => void;
  /**
   * The log lines of this node's containers of the selected tasks, in batches; with `options.follow` it keeps
   * streaming until `signal` aborts. Executors without containers have no logs.
   */
  logs?(
    selector: LogSelector,
    options: LogOptions,
    emit: (lines: TaskLogLine[]) => void,
    signal: AbortSignal,
  ): Promise<void>;
  /** Adopts what survived a daemon restart (containers labelled with their task) before the first assignments. */
  start(): Promise<void>;
  /** Stops watching; leaves containers running (live restore). */
  stop(): Promise<void>;
}
