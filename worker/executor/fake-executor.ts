// An in-memory Executor for control-plane tests: tasks walk ACCEPTED → PREPARING → READY → STARTING → RUNNING
// (one short delay per move), follow desired SHUTDOWN/REMOVE, and fail, exit or get rejected when a test says
// so. It makes the same decisions as the real controllers (nextStep) and reports with the same wording.
import { canMoveTo, type NetworkView, type Task, type TaskState, type TaskStatus } from '../../api/index.js';
import type { Executor, TaskStatusReport } from './executor.js';
import { exitOutcome, failureState, MESSAGES, nextStep } from './task-steps.js';

export interface FakeExecutorOptions {
  /** Delay before each move (ms); default 5. */
  stepMs?: number;
  /** Makes a task exit by itself once RUNNING (e.g. job tasks): after `ms`, with `exitCode` (default 0). */
  exitAfter?: (task: Task) => { ms: number; exitCode?: number } | undefined;
  now?: () => Date;
}

/** What the fake runs for a task. */
export interface FakeTask {
  taskId: string;
  serviceId: string;
  slot?: number;
  nodeId?: string;
  image: string;
  state: TaskState;
  desiredState: TaskState;
  containerId: string;
}

interface Entry {
  task: Task;
  status: TaskStatus;
  containerId: string;
  timer?: NodeJS.Timeout;
  exitTimer?: NodeJS.Timeout;
}

export class FakeExecutor implements Executor {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(r: TaskStatusReport) => void>();
  private readonly rejected = new Set<string>();
  private started = false;
  private nextPid = 1000;

  constructor(private readonly o: FakeExecutorOptions = {}) {}

  onStatus(listener: (report: TaskStatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    this.started = true;
    for (const e of this.entries.values()) this.schedule(e);
  }

  async stop(): Promise<void> {
    this.started = false;
    for (const e of this.entries.values()) this.clearTimers(e);
  }

  /** The network views the dispatcher sent last (no data plane here: tests look at what arrived). */
  networks: NetworkView[] = [];

  setNetworks(views: NetworkView[]): void {
    this.networks = views;
  }

  setAssignments(tasks: Task[]): void {
    const wanted = new Map(tasks.map((t) => [t.ID, t]));
    for (const [id, e] of this.entries) {
      if (wanted.has(id)) continue;
      this.clearTimers(e);
      this.entries.delete(id);
    }
    for (const task of tasks) {
      let e = this.entries.get(task.ID);
      if (!e) {
        e = { task, status: structuredClone(task.Status), containerId: fakeContainerId(task.ID) };
        this.entries.set(task.ID, e);
      } else {
        const desiredChanged = e.task.DesiredState !== task.DesiredState;
        e.task = task;
        if (canMoveTo(e.status.State, task.Status.State)) e.status = structuredClone(task.Status);
        if (desiredChanged) this.clearTimers(e);
      }
      this.schedule(e);
    }
  }

  /** Images whose tasks are REJECTED with "No such image: <ref>" when they prepare. */
  rejectImages(...refs: string[]): void {
    for (const r of refs) this.rejected.add(r);
  }

  /** Makes the task's container exit: 0 → COMPLETE, else FAILED "task: non-zero exit (N)". False if not started. */
  fail(taskId: string, exitCode = 1): boolean {
    const e = this.entries.get(taskId);
    if (!e || (e.status.State !== 'running' && e.status.State !== 'starting')) return false;
    this.clearTimers(e);
    const o = exitOutcome({ exitCode, oomKilled: false });
    this.report(e, o.state, o.message, o.err, o.exitCode);
    return true;
  }

  /** The tasks whose containers run now. */
  running(): FakeTask[] {
    return this.tasks().filter((t) => t.state === 'running');
  }

  /** Every task this executor holds, with the state it reached. */
  tasks(): FakeTask[] {
    return [...this.entries.values()].map((e) => ({
      taskId: e.task.ID,
      serviceId: e.task.ServiceID,
      ...(e.task.Slot !== undefined ? { slot: e.task.Slot } : {}),
      ...(e.task.NodeID ? { nodeId: e.task.NodeID } : {}),
      image: e.task.Spec.ContainerSpec?.Image ?? '',
      state: e.status.State,
      desiredState: e.task.DesiredState,
      containerId: e.containerId,
    }));
  }

  state(taskId: string): TaskState | undefined {
    return this.entries.get(taskId)?.status.State;
  }

  private clearTimers(e: Entry): void {
    if (e.timer) clearTimeout(e.timer);
    if (e.exitTimer) clearTimeout(e.exitTimer);
    e.timer = undefined;
    e.exitTimer = undefined;
  }

  private schedule(e: Entry): void {
    if (!this.started || e.timer) return;
    const step = nextStep(e.status.State, e.task.DesiredState);
    if (step.kind === 'idle') return;
    if (step.kind === 'wait') return this.scheduleExit(e);
    e.timer = setTimeout(() => {
      e.timer = undefined;
      if (this.entries.get(e.task.ID) !== e || !this.started) return;
      this.act(e, step);
      this.schedule(e);
    }, this.o.stepMs ?? 5);
  }

  private act(e: Entry, step: ReturnType<typeof nextStep>): void {
    switch (step.kind) {
      case 'advance':
        return this.report(e, step.to, step.message);
      case 'prepare': {
        const image = e.task.Spec.ContainerSpec?.Image ?? '';
        if (this.rejected.has(image))
          return this.report(e, failureState(e.status.State), e.status.Message, `No such image: ${image}`);
        return this.report(e, 'ready', MESSAGES.ready);
      }
      case 'start':
        return this.report(e, 'running', MESSAGES.running);
      case 'shutdown': {
        const ran = e.status.State === 'running' || e.status.State === 'starting';
        return this.report(e, 'shutdown', MESSAGES.shutdown, undefined, ran ? 143 : undefined);
      }
    }
  }

  private scheduleExit(e: Entry): void {
    if (e.exitTimer) return;
    const plan = this.o.exitAfter?.(e.task);
    if (!plan) return;
    e.exitTimer = setTimeout(() => {
      e.exitTimer = undefined;
      if (this.entries.get(e.task.ID) === e && this.started) this.fail(e.task.ID, plan.exitCode ?? 0);
    }, plan.ms);
  }

  private report(e: Entry, state: TaskState, message: string, err?: string, exitCode?: number): void {
    if (!canMoveTo(e.status.State, state)) return;
    const status: TaskStatus = {
      Timestamp: (this.o.now ?? (() => new Date()))().toISOString(),
      State: state,
      Message: message,
    };
    if (err) status.Err = err;
    if (state === 'running' || state === 'starting')
      status.ContainerStatus = { ContainerID: e.containerId, PID: this.nextPid++ };
    else if (exitCode !== undefined)
      status.ContainerStatus = { ContainerID: e.containerId, PID: 0, ExitCode: exitCode };
    e.status = status;
    const r = { taskId: e.task.ID, status };
    for (const l of this.listeners) l(structuredClone(r));
  }
}

function fakeContainerId(taskId: string): string {
  let hex = '';
  for (const ch of taskId) hex += ch.charCodeAt(0).toString(16);
  return hex.padEnd(64, '0').slice(0, 64);
}
