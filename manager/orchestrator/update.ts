// The rolling updater as a pure step: given a service and its tasks at time `now`, what to change next.
// Everything is derived from the store (task specs, states, timestamps and UpdateStatus), so a new leader
// resumes an update exactly where the old one was.
import { isDeepStrictEqual } from 'node:util';
import {
  isTerminal,
  type EndpointSpec,
  type Service,
  type Task,
  type UpdateConfig,
  type UpdateStatus,
} from '../../api/index.js';
import { groupSlots } from './slots.js';
import { newTask } from './task-factory.js';

export interface UpdateStep {
  create: Task[];
  update: Task[];
  /** New UpdateStatus to write on the service, when it changes. */
  status?: UpdateStatus;
  /** Set when a failed update rolls back: the service's Spec becomes its PreviousSpec. */
  rollback?: boolean;
  /** When to run the step again even if nothing changes in the store (monitor periods, delays). */
  wakeInMs?: number;
}

const NS_PER_MS = 1e6;
/** Time a new task may take to start (pull, create) before its monitor period begins. */
const STARTUP_ALLOWANCE_MS = 60_000;
/** stop-first: how long a new task waits at READY for the old one to stop (its node may be gone). */
const STOP_WAIT_MS = 30_000;

/** An endpoint spec with Docker's defaults filled, so an omitted field and its default compare equal. */
function endpointKey(spec: EndpointSpec | undefined): unknown {
  return {
    mode: spec?.Mode ?? 'vip',
    ports: (spec?.Ports ?? []).map((p) => [
      p.Name ?? '',
      p.Protocol ?? 'tcp',
      p.TargetPort,
      p.PublishedPort ?? 0,
      p.PublishMode ?? 'ingress',
    ]),
  };
}

/** swarmkit's "not dirty": the task runs the service's task template and (if recorded) its endpoint spec. */
export function isUpToDate(service: Service, t: Task): boolean {
  return (
    isDeepStrictEqual(t.Spec, service.Spec.TaskTemplate) &&
    (!t.Endpoint || isDeepStrictEqual(endpointKey(t.Endpoint.Spec), endpointKey(service.Spec.EndpointSpec)))
  );
}

function failedEarly(t: Task): boolean {
  const s = t.Status.State;
  const exit = t.Status.ContainerStatus?.ExitCode;
  return (
    s === 'failed' ||
    s === 'rejected' ||
    (s === 'complete' && exit !== undefined && exit !== 0) ||
    (isTerminal(s) && t.DesiredState === 'running')
  );
}

function msSince(iso: string | undefined, nowMs: number): number {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? 0 : nowMs - t;
}

export function updateStep(service: Service, tasks: Task[], nowMs: number): UpdateStep {
  const now = new Date(nowMs).toISOString();
  const out: UpdateStep = { create: [], update: [] };
  const state = service.UpdateStatus?.State;
  if (state === 'paused' || state === 'rollback_paused') return out;
  if (!service.Spec.Mode?.Replicated && !service.Spec.Mode?.Global) return out;
  const rollingBack = state === 'rollback_started';
  const cfg: UpdateConfig = (rollingBack ? service.Spec.RollbackConfig : service.Spec.UpdateConfig) ?? {};
  const monitorMs = (cfg.Monitor ?? 5e9) / NS_PER_MS;
  const delayMs = (cfg.Delay ?? 0) / NS_PER_MS;
  const parallelism = cfg.Parallelism ?? 1;
  const startFirst = cfg.Order === 'start-first';
  const mine = tasks.filter((t) => t.ServiceID === service.ID);
  const slots = [...groupSlots(mine).values()].filter((s) => s.runnable.length > 0);
  const startedAt = service.UpdateStatus?.StartedAt ?? now;
  const inUpdate = state === 'updating' || rollingBack;

  const dirty = slots.filter((s) => s.runnable.every((t) => !isUpToDate(service, t)));
  if (!inUpdate) {
    if (dirty.length === 0) return out;
    out.status = { State: 'updating', StartedAt: now, Message: 'update in progress' };
  }
  const since = out.status?.StartedAt ?? startedAt;

  // Failures: new-spec tasks created during this update that stopped before surviving their monitor period
  // (measured from creation, with a start-up allowance since the time they reached RUNNING is overwritten).
  const failures = mine.filter(
    (t) =>
      isUpToDate(service, t) &&
      t.CreatedAt >= since &&
      failedEarly(t) &&
      msSince(t.CreatedAt, Date.parse(t.Status.Timestamp)) <= monitorMs + STARTUP_ALLOWANCE_MS,
  );
  const total = Math.max(1, slots.length);
  if (
    failures.length > 0 &&
    failures.length / total > (cfg.MaxFailureRatio ?? 0) &&
    cfg.FailureAction !== 'continue'
  ) {
    const culprit = failures[0]!.ID;
    if (cfg.FailureAction === 'rollback' && !rollingBack && service.PreviousSpec) {
      out.rollback = true;
      out.status = {
        State: 'rollback_started',
        StartedAt: now,
        Message: `update rolled back due to failure or early termination of task ${culprit}`,
      };
    } else {
      out.status = {
        State: rollingBack ? 'rollback_paused' : 'paused',
        StartedAt: since,
        Message: `${rollingBack ? 'rollback' : 'update'} paused due to failure or early termination of task ${culprit}`,
      };
    }
    return out;
  }

  // Slots with a new task: settled once it has run for the monitor period; start-first retires the old one then.
  let inProgress = 0;
  let lastSettledMs = 0;
  let wake = Infinity;
  const all = groupSlots(mine);
  for (const s of slots) {
    const fresh = s.runnable.filter((t) => isUpToDate(service, t));
    if (fresh.length === 0) continue;
    const newest = fresh.reduce((a, b) => (a.CreatedAt >= b.CreatedAt ? a : b));
    if (newest.CreatedAt < since) continue;
    // stop-first: the new task waits at READY until the old one has stopped, then is told to run.
    if (newest.DesiredState === 'ready') {
      const stopping = (all.get(s.key)?.history ?? []).some(
        (t) => !isUpToDate(service, t) && !isTerminal(t.Status.State),
      );
      const waited = msSince(newest.CreatedAt, nowMs);
      if (!stopping || waited >= STOP_WAIT_MS) out.update.push({ ...newest, DesiredState: 'running' });
      else wake = Math.min(wake, STOP_WAIT_MS - waited);
      inProgress++;
      continue;
    }
    const running = newest.Status.State === 'running';
    if (running)
      for (const old of s.runnable.filter((t) => !isUpToDate(service, t)))
        out.update.push({ ...old, DesiredState: 'shutdown' });
    const ranFor = running ? msSince(newest.Status.Timestamp, nowMs) : 0;
    if (running && ranFor >= monitorMs) {
      lastSettledMs = Math.max(lastSettledMs, Date.parse(newest.Status.Timestamp) + monitorMs);
    } else {
      inProgress++;
      if (running) wake = Math.min(wake, monitorMs - ranFor);
    }
  }

  const toStart = dirty.sort((a, b) => (a.runnable[0]!.Slot ?? 0) - (b.runnable[0]!.Slot ?? 0));
  if (toStart.length === 0 && inProgress === 0) {
    out.status = {
      State: rollingBack ? 'rollback_completed' : 'completed',
      StartedAt: since,
      CompletedAt: now,
      Message: rollingBack ? 'rollback completed' : 'update completed',
    };
    return out;
  }
  const readyAt = lastSettledMs + delayMs;
  if (toStart.length > 0 && delayMs > 0 && lastSettledMs > 0 && nowMs < readyAt) {
    wake = Math.min(wake, readyAt - nowMs);
  } else {
    const room = parallelism === 0 ? toStart.length : Math.max(0, parallelism - inProgress);
    for (const s of toStart.slice(0, room)) {
      const old = s.runnable[0]!;
      const task = newTask(
        service,
        old.Slot !== undefined ? { slot: old.Slot } : { nodeId: old.NodeID },
        now,
      );
      if (!startFirst) {
        // Swarm's stop-first: the replacement is placed and prepared, but starts once the old task stopped.
        task.DesiredState = 'ready';
        for (const t of s.runnable) out.update.push({ ...t, DesiredState: 'shutdown' });
      }
      out.create.push(task);
    }
  }
  if (Number.isFinite(wake)) out.wakeInMs = Math.max(1, Math.ceil(wake));
  return out;
}
