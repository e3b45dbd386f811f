// Task states in swarmkit's order. A task only ever moves forward through this list.

export const TASK_STATES = [
  'new',
  'pending',
  'assigned',
  'accepted',
  'preparing',
  'ready',
  'starting',
  'running',
  'complete',
  'shutdown',
  'failed',
  'rejected',
  'remove',
  'orphaned',
] as const;

export type TaskState = (typeof TASK_STATES)[number];

const RANK: ReadonlyMap<string, number> = new Map(TASK_STATES.map((s, i) => [s, i]));

export function isTaskState(s: unknown): s is TaskState {
  return typeof s === 'string' && RANK.has(s);
}

/** Position of a state in the order; larger is later. */
export function taskStateRank(s: TaskState): number {
  return RANK.get(s)!;
}

/** True when a task in `from` may move to `to`: strictly forward, never back. */
export function canMoveTo(from: TaskState, to: TaskState): boolean {
  return taskStateRank(to) > taskStateRank(from);
}

/** States after which a task never runs again. */
export function isTerminal(s: TaskState): boolean {
  return taskStateRank(s) >= taskStateRank('complete');
}

/** The last state a manager writes; from ACCEPTED on, only the worker reports. */
export const LAST_MANAGER_STATE: TaskState = 'assigned';
