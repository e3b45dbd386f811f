// The task state machine's decisions, as swarmkit's exec.Do makes them: given the state a task has reached and
// the state the managers want, what the controller does next. Pure; the controllers (real and fake) act on it.
import { isTerminal, taskStateRank, type TaskState } from '../../api/index.js';

export type Step =
  /** Nothing to do until the desired state or the container changes. */
  | { kind: 'idle' }
  /** A bookkeeping move with no work behind it (ASSIGNED→ACCEPTED, ACCEPTED→PREPARING, READY→STARTING). */
  | { kind: 'advance'; to: TaskState; message: string }
  /** PREPARING→READY: make sure the image is here (pull it if not), create the container. */
  | { kind: 'prepare' }
  /** STARTING→RUNNING: start the container, then wait for it to be healthy when it has a health check. */
  | { kind: 'start' }
  /** RUNNING→COMPLETE/FAILED: wait for the container to exit (or turn unhealthy). */
  | { kind: 'wait' }
  /** Stop the container with its grace period and report SHUTDOWN. */
  | { kind: 'shutdown' };

const rank = taskStateRank;

/** Swarm's messages for the moves a worker reports. */
export const MESSAGES = {
  accepted: 'accepted',
  preparing: 'preparing',
  ready: 'prepared',
  starting: 'starting',
  running: 'started',
  complete: 'finished',
  shutdown: 'shutdown',
} as const;

export function nextStep(state: TaskState, desired: TaskState): Step {
  if (rank(desired) >= rank('shutdown')) return isTerminal(state) ? { kind: 'idle' } : { kind: 'shutdown' };
  // Beyond what is wanted (e.g. RUNNING while READY is desired): hold.
  if (rank(state) > rank(desired)) return { kind: 'idle' };
  // These states carry work that may proceed to the next state even when it passes the desired one.
  if (state === 'preparing') return { kind: 'prepare' };
  if (state === 'starting') return { kind: 'start' };
  if (state === 'running') return { kind: 'wait' };
  // The others only move while the desired state lies beyond them.
  if (rank(state) >= rank(desired)) return { kind: 'idle' };
  if (rank(state) < rank('accepted')) return { kind: 'advance', to: 'accepted', message: MESSAGES.accepted };
  if (state === 'accepted') return { kind: 'advance', to: 'preparing', message: MESSAGES.preparing };
  if (state === 'ready') return { kind: 'advance', to: 'starting', message: MESSAGES.starting };
  return { kind: 'idle' };
}

/** Where a fatal error leaves a task: REJECTED before anything was started, FAILED from STARTING on. */
export function failureState(state: TaskState): TaskState {
  return rank(state) < rank('starting') ? 'rejected' : 'failed';
}

/** Docker's wording for a task whose container exited non-zero: "task: non-zero exit (N)[: cause]". */
export function nonZeroExit(code: number, cause?: string): string {
  return cause ? `task: non-zero exit (${code}): ${cause}` : `task: non-zero exit (${code})`;
}

/** Docker's error when a failing health check made the task stop. */
export const UNHEALTHY = 'unhealthy container';

export interface ExitFacts {
  exitCode: number;
  oomKilled: boolean;
  /** The executor stopped the container because its health check failed. */
  unhealthy?: boolean;
}

/** The outcome of a container that exited on its own (not stopped for a desired shutdown). */
export function exitOutcome(f: ExitFacts): {
  state: TaskState;
  message: string;
  err?: string;
  exitCode: number;
} {
  const exitCode = f.oomKilled && f.exitCode === 0 ? 137 : f.exitCode;
  if (exitCode === 0 && !f.unhealthy) return { state: 'complete', message: MESSAGES.complete, exitCode };
  return {
    state: 'failed',
    message: MESSAGES.running,
    err: nonZeroExit(exitCode, f.unhealthy ? UNHEALTHY : undefined),
    exitCode,
  };
}

/** The state a task is in, judging only by its container (used when re-adopting after a restart). */
export function stateOfContainer(c: {
  status: string;
  exitCode: number;
  health?: string;
  hasHealthcheck: boolean;
}): TaskState {
  if (c.status === 'created') return 'ready';
  if (c.status === 'running' || c.status === 'paused')
    return c.hasHealthcheck && c.health === 'starting' ? 'starting' : 'running';
  return c.exitCode === 0 ? 'complete' : 'failed';
}

/** The later of two states (a task only moves forward). */
export function laterState(a: TaskState, b: TaskState): TaskState {
  return rank(a) >= rank(b) ? a : b;
}
