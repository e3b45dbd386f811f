// One task on this node, driven through the runtime as swarmkit's task manager drives its controller: a loop
// that asks nextStep() what to do, does it, reports the move, and waits when there is nothing to do. A change
// of the desired state interrupts whatever wait is in progress (a pull, the container's exit, its health).
import {
  canMoveTo,
  Conflict,
  errorMessage,
  isTerminal,
  NotFound,
  taskStateRank,
  type Logger,
  type Task,
  type TaskState,
  type TaskStatus,
} from '../../api/index.js';
import { NotModified, type ContainerManager } from '../../runtime/index.js';
import { containerName, createBody, hasHealthcheck, LABEL, stopGraceSeconds } from './container-config.js';
import { record, unlessAborted, watchContainer, type ContainerEvent } from './container-watch.js';
import type { TaskDependencies, TaskStatusReport } from './executor.js';
import type { PreparedNetworks } from '../networks/index.js';
import { taskFiles } from './task-files.js';
import { exitOutcome, failureState, MESSAGES, nextStep, stateOfContainer, type Step } from './task-steps.js';

export interface ControllerDeps {
  containers: ContainerManager;
  /** Makes sure the image is in the store (pulling it if needed); throws "No such image: <ref>" otherwise. */
  ensureImage(ref: string): Promise<void>;
  report(r: TaskStatusReport): void;
  /** The secrets and configs the node holds now (for the task's files). */
  dependencies(): TaskDependencies;
  log: Logger;
  nodeId?: string;
  /** The task's overlay networking: a namespace with its interfaces (none for a task on no network). */
  networks?: {
    prepare(task: Task): Promise<PreparedNetworks | undefined>;
    /** Reconnects the running container (process `pid`) of an adopted task. */
    adopt(task: Task, pid: number): Promise<void>;
    release(taskId: string): Promise<void>;
  };
  pollMs: number;
  now: () => Date;
}

/** A container found for the task when the executor started (daemon restart). */
export interface Adopted {
  containerId: string;
}

/** Finds the container labelled with this task's ID. */
export function containerOfTask(containers: ContainerManager, taskId: string): string | undefined {
  return containers.list().find((r) => r.Config.Labels?.[LABEL.taskId] === taskId)?.Id;
}

/** A stop with the task's grace period; a container that is not running is fine. */
async function stopQuietly(containers: ContainerManager, id: string, graceSeconds: number): Promise<void> {
  try {
    await containers.stopContainer(id, { timeoutSeconds: graceSeconds });
  } catch (err) {
    if (!(err instanceof NotModified) && !(err instanceof NotFound)) throw err;
  }
}

export class TaskController {
  private task: Task;
  private status: TaskStatus;
  private containerId?: string;
  private interrupt = new AbortController();
  private wake?: () => void;
  private closed = false;
  /** The container was stopped because its health check failed (the exit is then the task's failure). */
  private unhealthy = false;
  private readonly log: Logger;
  private readonly loop: Promise<void>;

  constructor(
    task: Task,
    private readonly d: ControllerDeps,
    adopted?: Adopted,
  ) {
    this.task = task;
    this.log = d.log.child({ task: task.ID });
    // Starts from the managers' view: what an adopted container got to beyond it is reported again (reports made
    // at start() may have had no listener yet).
    this.status = structuredClone(task.Status);
    this.loop = this.run(adopted?.containerId).catch((err: unknown) =>
      this.log.error('task controller stopped on an error', { err: errorMessage(err) }),
    );
  }

  get id(): string {
    return this.task.ID;
  }

  get state(): TaskState {
    return this.status.State;
  }

  /** The task as the managers sent it again; a new desired state interrupts the current wait. */
  update(task: Task): void {
    let changed = task.DesiredState !== this.task.DesiredState;
    this.task = task;
    // The managers' view never moves a task back, but it may know a later state (e.g. ORPHANED).
    if (canMoveTo(this.status.State, task.Status.State)) {
      this.status = structuredClone(task.Status);
      changed = true;
    }
    if (changed) this.poke();
  }

  private poke(): void {
    this.interrupt.abort();
    this.interrupt = new AbortController();
    this.wake?.();
  }

  /** Ends the loop without touching the container (executor stop: live restore). */
  async close(): Promise<void> {
    this.closed = true;
    this.poke();
    await this.loop;
  }

  /** Ends the loop, then stops the container with the task's grace period and removes it. */
  async remove(): Promise<void> {
    await this.close();
    const id = this.containerId ?? containerOfTask(this.d.containers, this.task.ID);
    if (id) {
      await stopQuietly(this.d.containers, id, stopGraceSeconds(this.task)).catch((err: unknown) =>
        this.log.warn('stopping the container of a removed task failed: killing it', {
          err: errorMessage(err),
        }),
      );
      await this.d.containers.remove(id, { force: true }).catch((err: unknown) => {
        if (!(err instanceof NotFound)) throw err;
      });
    }
    await this.d.networks?.release(this.task.ID);
  }

  // ---- the loop ----

  private async run(adopted?: string): Promise<void> {
    // Let the constructor's caller finish before the first report.
    await Promise.resolve();
    if (adopted) {
      this.adopt(adopted);
      await this.reconnect(adopted);
    }
    while (!this.closed) {
      const step = nextStep(this.status.State, this.task.DesiredState);
      const signal = this.interrupt.signal;
      try {
        if (step.kind === 'idle') await this.idle(signal);
        else await this.act(step, signal);
      } catch (err) {
        if (this.closed) break;
        this.fatal(err);
      }
    }
  }

  /** An adopted running container gets its overlay networking back; a task that cannot fails (and is replaced). */
  private async reconnect(id: string): Promise<void> {
    const rec = record(this.d.containers, id);
    if (!this.d.networks || !this.task.NetworksAttachments?.length || !rec?.State.Running || !rec.State.Pid)
      return;
    try {
      await this.d.networks.adopt(this.task, rec.State.Pid);
    } catch (err) {
      this.fatal(new Error(`restoring the task's networks after a restart failed: ${errorMessage(err)}`));
    }
  }

  /** Catches up with a container that outlived the executor: reports what it became while nobody watched. */
  private adopt(id: string): void {
    const rec = record(this.d.containers, id);
    if (!rec) return;
    this.containerId = id;
    const state = stateOfContainer({
      status: rec.State.Status,
      exitCode: rec.State.ExitCode,
      health: rec.State.Health?.Status,
      hasHealthcheck: hasHealthcheck(this.task),
    });
    if (!isTerminal(state)) return this.report(state, MESSAGES[state as keyof typeof MESSAGES]);
    if (taskStateRank(this.task.DesiredState) >= taskStateRank('shutdown'))
      return this.report('shutdown', MESSAGES.shutdown);
    this.exited(exitFacts(rec));
  }

  private async idle(signal: AbortSignal): Promise<void> {
    try {
      await this.tidy();
    } catch (err) {
      this.log.warn('cleaning up the container of a finished task failed', { err: errorMessage(err) });
    }
    if (signal.aborted || this.closed) return;
    await new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    this.wake = undefined;
  }

  /** A task that is over keeps no running container; one whose desired state is REMOVE keeps none at all. */
  private async tidy(): Promise<void> {
    if (!isTerminal(this.status.State) || this.closed) return;
    const id = this.containerId;
    const rec = id ? record(this.d.containers, id) : undefined;
    if (id && rec?.State.Running) await stopQuietly(this.d.containers, id, stopGraceSeconds(this.task));
    // Its addresses go back to the allocator once the task is over: the namespace holding them goes now.
    await this.d.networks?.release(this.task.ID);
    if (!id) return;
    if (taskStateRank(this.task.DesiredState) >= taskStateRank('remove') && rec) {
      await this.d.containers.remove(id, { force: true });
      this.containerId = undefined;
    }
  }

  private async act(step: Exclude<Step, { kind: 'idle' }>, signal: AbortSignal): Promise<void> {
    switch (step.kind) {
      case 'advance':
        return this.report(step.to, step.message);
      case 'prepare':
        return this.prepare(signal);
      case 'start':
        return this.start(signal);
      case 'wait':
        return this.wait(signal);
      case 'shutdown':
        return this.shutdown();
    }
  }

  private async prepare(signal: AbortSignal): Promise<void> {
    this.containerId ??= containerOfTask(this.d.containers, this.task.ID);
    if (!this.containerId) {
      const body = createBody(this.task, this.d.nodeId);
      const files = taskFiles(this.task, this.d.dependencies());
      const pulled = await unlessAborted(this.d.ensureImage(body.Image!), signal);
      if (!pulled || this.closed) return;
      const name = containerName(this.task, this.d.nodeId);
      const net = await this.d.networks?.prepare(this.task);
      try {
        this.containerId = (
          await this.d.containers.create(body, name, {
            files: [...files, ...(net?.files ?? [])],
            netns: net?.netns,
          })
        ).Id;
      } catch (err) {
        // Created before, but not labelled as ours: take it only if it is this task's.
        const existing = err instanceof Conflict ? record(this.d.containers, name) : undefined;
        if (existing?.Config.Labels?.[LABEL.taskId] !== this.task.ID) throw err;
        this.containerId = existing.Id;
      }
    }
    this.report('ready', MESSAGES.ready);
  }

  private async start(signal: AbortSignal): Promise<void> {
    const id = this.containerId;
    const rec = id ? record(this.d.containers, id) : undefined;
    if (!id || !rec) throw new NotFound(`No such container: ${containerName(this.task, this.d.nodeId)}`);
    if (rec.State.Status === 'created') {
      try {
        await this.d.containers.startContainer(id);
      } catch (err) {
        if (!(err instanceof NotModified)) throw new Error(`starting container failed: ${errorMessage(err)}`);
      }
      if (this.closed) return;
    }
    if (!hasHealthcheck(this.task)) {
      const now = record(this.d.containers, id);
      if (now && !now.State.Running) return this.exited(exitFacts(now));
      return this.report('running', MESSAGES.running);
    }
    const e = await watchContainer(this.d.containers, id, {
      healthy: true,
      unhealthy: true,
      pollMs: this.d.pollMs,
      signal,
    });
    if (e.kind === 'healthy') return this.report('running', MESSAGES.running);
    return this.handle(e, id);
  }

  private async wait(signal: AbortSignal): Promise<void> {
    const id = this.containerId;
    if (!id || !record(this.d.containers, id))
      throw new NotFound(`No such container: ${containerName(this.task, this.d.nodeId)}`);
    const e = await watchContainer(this.d.containers, id, {
      unhealthy: hasHealthcheck(this.task),
      pollMs: this.d.pollMs,
      signal,
    });
    return this.handle(e, id);
  }

  private async handle(e: ContainerEvent, id: string): Promise<void> {
    switch (e.kind) {
      case 'interrupted':
        return;
      case 'exited':
        return this.exited(e);
      case 'gone':
        throw new NotFound(`No such container: ${id}`);
      case 'unhealthy': {
        // Failed at once, as swarmkit does, so load balancers everywhere drop the task while its container
        // stops (tidy() stops it next); reported as the kill Docker's is (137).
        this.log.info('container unhealthy: failing the task and stopping it', { container: id });
        this.unhealthy = true;
        return this.exited({ exitCode: 137, oomKilled: false });
      }
      case 'healthy':
        return;
    }
  }

  private exited(f: { exitCode: number; oomKilled: boolean }): void {
    const o = exitOutcome({ ...f, unhealthy: this.unhealthy });
    this.report(o.state, o.message, { err: o.err, exitCode: o.exitCode });
  }

  private async shutdown(): Promise<void> {
    this.containerId ??= containerOfTask(this.d.containers, this.task.ID);
    if (this.containerId) await stopQuietly(this.d.containers, this.containerId, stopGraceSeconds(this.task));
    this.report('shutdown', MESSAGES.shutdown);
  }

  /** swarmkit's fatal(): REJECTED before STARTING, FAILED from then on; the message stays, Err says why. */
  private fatal(err: unknown): void {
    const msg = errorMessage(err);
    this.log.warn('task failed', { state: this.status.State, err: msg });
    this.report(failureState(this.status.State), this.status.Message, { err: msg });
  }

  private report(state: TaskState, message: string, o: { err?: string; exitCode?: number } = {}): void {
    if (this.closed || !canMoveTo(this.status.State, state)) return;
    const status: TaskStatus = { Timestamp: this.d.now().toISOString(), State: state, Message: message };
    if (o.err) status.Err = o.err;
    if (this.containerId && taskStateRank(state) >= taskStateRank('starting')) {
      const rec = record(this.d.containers, this.containerId);
      const exitCode = o.exitCode ?? (rec?.State.Status === 'exited' ? rec.State.ExitCode : undefined);
      status.ContainerStatus = {
        ContainerID: this.containerId,
        PID: rec?.State.Running ? rec.State.Pid : 0,
        ...(exitCode !== undefined ? { ExitCode: exitCode } : {}),
      };
    }
    this.status = status;
    try {
      this.d.report({ taskId: this.task.ID, status: structuredClone(status) });
    } catch (err) {
      this.log.error('status listener failed', { err: errorMessage(err) });
    }
  }
}

function exitFacts(rec: { State: { ExitCode: number; OOMKilled: boolean } }) {
  return { exitCode: rec.State.ExitCode, oomKilled: rec.State.OOMKilled };
}
