// The restart supervisor's decision (pure): should a finished task's slot get a replacement, and when.
import { isTerminal, type Service, type Task } from '../../api/index.js';

export interface RestartDecision {
  restart: boolean;
  /** Delay before the replacement may start (its desired state stays READY until then). */
  delayMs: number;
  reason: string;
}

const NS_PER_MS = 1e6;

/** A task that stopped on its own: terminal observed state while it was still meant to run. */
export function needsSupervision(t: Task): boolean {
  return t.DesiredState === 'running' && isTerminal(t.Status.State);
}

/**
 * Applies the service's RestartPolicy to `task` (which stopped, or whose node went down), given the slot's
 * earlier tasks. Attempts are counted within the policy's window, as swarmkit counts them.
 */
export function restartDecision(
  service: Service,
  task: Task,
  slotHistory: Task[],
  nowMs: number,
  nodeDown = false,
): RestartDecision {
  const policy = service.Spec.TaskTemplate.RestartPolicy ?? {};
  const condition = policy.Condition ?? 'any';
  const delayMs = (policy.Delay ?? 5e9) / NS_PER_MS;
  const isJob = !!(service.Spec.Mode?.ReplicatedJob || service.Spec.Mode?.GlobalJob);
  if (nodeDown) return { restart: true, delayMs: 0, reason: 'node is down' };
  const state = task.Status.State;
  const exitCode = task.Status.ContainerStatus?.ExitCode;
  const failed =
    state === 'failed' ||
    state === 'rejected' ||
    (state === 'complete' && exitCode !== undefined && exitCode !== 0);
  if (state === 'complete' && !failed && isJob)
    return { restart: false, delayMs: 0, reason: 'job task completed' };
  if (condition === 'none') return { restart: false, delayMs: 0, reason: 'restart condition is none' };
  if (condition === 'on-failure' && !failed)
    return { restart: false, delayMs: 0, reason: 'task completed successfully' };
  const max = policy.MaxAttempts ?? 0;
  if (max > 0) {
    const windowMs = (policy.Window ?? 0) / NS_PER_MS;
    const attempts =
      slotHistory.filter(
        (t) => t.ID !== task.ID && (windowMs === 0 || nowMs - Date.parse(t.Status.Timestamp) <= windowMs),
      ).length + 1;
    if (attempts > max) return { restart: false, delayMs: 0, reason: `restart attempts exhausted (${max})` };
  }
  return { restart: true, delayMs, reason: failed ? 'task failed' : 'task exited' };
}
