// The Executor of a real node: one TaskController per assigned task over the node's container manager and
// image store. Containers carry their task's labels, so a restarted daemon finds and adopts them again.
import {
  createLogger,
  errorMessage,
  NotFound,
  type Logger,
  type NetworkView,
  type Task,
  type TaskStatus,
} from '../../api/index.js';
import { pullImage, type ContainerManager, type ImageStore } from '../../runtime/index.js';
import { NodeNetworks } from '../networks/index.js';
import { LABEL } from './container-config.js';
import {
  NO_TASK_DEPENDENCIES,
  type Executor,
  type TaskDependencies,
  type TaskStatusReport,
} from './executor.js';
import { TaskController, type Adopted } from './task-controller.js';
import { readTaskLogs } from './task-logs.js';
import { MESSAGES, stateOfContainer } from './task-steps.js';

export interface RuntimeExecutorOptions {
  /** A started container manager (the node's; the HTTP API shares it). */
  containers: ContainerManager;
  images: ImageStore;
  /** This node's ID (names and labels of global tasks that carry no NodeID). */
  nodeId?: string;
  log?: Logger;
  /** Fetches a missing image; the default pulls it from its registry. */
  pull?: (ref: string) => Promise<unknown>;
  /** Registry pull timeout for the default pull (ms). */
  pullTimeoutMs?: number;
  /**
   * This node's swarm identity once it has one (ID and underlay address): overlay networking is set up for it
   * on first use. Without it tasks on overlay networks cannot be prepared.
   */
  swarmNode?: () => { nodeId: string; addr: string } | undefined;
  /** Subnet of the node's gateway bridge (tss_gwbridge); Docker's docker_gwbridge default when not given. */
  gwbridgeSubnet?: string;
  /** How often health status is looked at while a task with a health check starts or runs (ms). */
  pollMs?: number;
  now?: () => Date;
}

export class RuntimeExecutor implements Executor {
  private readonly controllers = new Map<string, TaskController>();
  private readonly removals = new Map<string, Promise<void>>();
  private readonly listeners = new Set<(r: TaskStatusReport) => void>();
  private readonly pulls = new Map<string, Promise<void>>();
  /** Containers found at start, by task ID, until the first assignment set says what becomes of them. */
  private adopted = new Map<string, Adopted>();
  private started = false;
  private starting?: Promise<void>;
  private pendingSet?: Task[];
  /** The secrets and configs of the latest assignment set (memory only). */
  private dependencies: TaskDependencies = NO_TASK_DEPENDENCIES;
  private readonly log: Logger;
  private nodeNetworks?: NodeNetworks;

  constructor(private readonly o: RuntimeExecutorOptions) {
    this.log = o.log ?? createLogger({ component: 'executor' });
  }

  onStatus(listener: (report: TaskStatusReport) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(r: TaskStatusReport): void {
    for (const l of this.listeners) {
      try {
        l(r);
      } catch (err) {
        this.log.error('status listener failed', { task: r.taskId, err: errorMessage(err) });
      }
    }
  }

  logs(...args: Parameters<NonNullable<Executor['logs']>>): Promise<void> {
    return readTaskLogs(this.o.containers, ...args);
  }

  start(): Promise<void> {
    this.starting ??= this.adoptContainers().then(() => {
      this.started = true;
      const set = this.pendingSet;
      this.pendingSet = undefined;
      if (set) this.setAssignments(set, this.dependencies);
    });
    return this.starting;
  }

  /** Finds the containers of tasks (labelled with their task ID) and reports the running ones again. */
  private async adoptContainers(): Promise<void> {
    const now = (this.o.now ?? (() => new Date()))();
    for (const rec of this.o.containers.list()) {
      const taskId = rec.Config.Labels?.[LABEL.taskId];
      if (!taskId) continue;
      const adopted: Adopted = { containerId: rec.Id };
      this.adopted.set(taskId, adopted);
      if (!rec.State.Running) continue;
      const state = stateOfContainer({
        status: rec.State.Status,
        exitCode: rec.State.ExitCode,
        health: rec.State.Health?.Status,
        hasHealthcheck: !!rec.Config.Healthcheck?.Test?.length && rec.Config.Healthcheck.Test[0] !== 'NONE',
      });
      const status: TaskStatus = {
        Timestamp: now.toISOString(),
        State: state,
        Message: state === 'starting' ? MESSAGES.starting : MESSAGES.running,
        ContainerStatus: { ContainerID: rec.Id, PID: rec.State.Pid },
      };
      this.log.info('re-adopted the container of a task', { task: taskId, container: rec.Id, state });
      this.emit({ taskId, status: structuredClone(status) });
    }
  }

  setAssignments(tasks: Task[], dependencies: TaskDependencies = NO_TASK_DEPENDENCIES): void {
    this.dependencies = dependencies;
    if (!this.started) {
      this.pendingSet = tasks;
      return;
    }
    const wanted = new Map(tasks.map((t) => [t.ID, t]));
    for (const [id, c] of this.controllers) {
      if (wanted.has(id)) continue;
      this.controllers.delete(id);
      this.track(id, c.remove());
    }
    for (const [id, a] of this.adopted) {
      if (wanted.has(id)) continue;
      this.track(id, this.removeContainer(a.containerId));
    }
    for (const task of tasks) {
      const existing = this.controllers.get(task.ID);
      if (existing) {
        existing.update(task);
        continue;
      }
      const pending = this.removals.get(task.ID);
      if (!pending) {
        this.controllers.set(task.ID, this.controller(task, this.adopted.get(task.ID)));
        continue;
      }
      // Taken away and handed back before its old container was gone: it starts once that is done.
      void pending.then(() => {
        const latest = this.assigned.get(task.ID);
        if (this.started && latest && !this.controllers.has(task.ID))
          this.controllers.set(task.ID, this.controller(latest));
      });
    }
    this.assigned = wanted;
    this.adopted.clear();
  }

  setNetworks(views: NetworkView[]): void {
    // A node that never used overlay networking does not set it up to learn it has none.
    if (!views.length && !this.nodeNetworks) return;
    const n = this.networks();
    if (!n) return;
    n.setViews(views).catch((err: unknown) =>
      this.log.warn('applying the network views failed', { err: errorMessage(err) }),
    );
  }

  /** The node's overlay networking, made when first needed (the node must be in a swarm by then). */
  private networks(): NodeNetworks | undefined {
    if (this.nodeNetworks) return this.nodeNetworks;
    const self = this.o.swarmNode?.();
    if (!self) return undefined;
    this.nodeNetworks = new NodeNetworks({
      nodeId: self.nodeId,
      underlayAddr: self.addr,
      gwbridgeSubnet: this.o.gwbridgeSubnet,
      log: this.log,
    });
    return this.nodeNetworks;
  }

  /** The latest assignment set, by task ID. */
  private assigned = new Map<string, Task>();

  private controller(task: Task, adopted?: Adopted): TaskController {
    return new TaskController(
      task,
      {
        containers: this.o.containers,
        ensureImage: (ref) => this.ensureImage(ref),
        report: (r) => this.emit(r),
        dependencies: () => this.dependencies,
        log: this.log,
        nodeId: this.o.nodeId,
        networks: {
          prepare: (t) => {
            if (!t.NetworksAttachments?.length) return Promise.resolve(undefined);
            const n = this.networks();
            if (!n) throw new Error('this node has no overlay networking: it is not in a swarm');
            return n.prepare(t);
          },
          adopt: async (t, pid) => {
            const n = this.networks();
            if (!n) throw new Error('this node has no overlay networking: it is not in a swarm');
            await n.adopt(t, pid);
          },
          release: (id) => this.nodeNetworks?.release(id) ?? Promise.resolve(),
        },
        pollMs: this.o.pollMs ?? 100,
        now: this.o.now ?? (() => new Date()),
      },
      adopted,
    );
  }

  private track(taskId: string, p: Promise<void>): void {
    const done = p
      .catch((err: unknown) =>
        this.log.error('removing the container of a task failed', { task: taskId, err: errorMessage(err) }),
      )
      .finally(() => {
        if (this.removals.get(taskId) === done) this.removals.delete(taskId);
      });
    this.removals.set(taskId, done);
  }

  private async removeContainer(id: string): Promise<void> {
    await this.o.containers.stopContainer(id).catch(() => undefined);
    await this.o.containers.remove(id, { force: true }).catch((err: unknown) => {
      if (!(err instanceof NotFound)) throw err;
    });
  }

  /** The image is in the store, or is pulled (one pull per reference at a time); else "No such image". */
  private async ensureImage(ref: string): Promise<void> {
    if (await this.hasImage(ref)) return;
    let pull = this.pulls.get(ref);
    if (!pull) {
      const fetch =
        this.o.pull ?? ((r: string) => pullImage(this.o.images, r, { timeoutMs: this.o.pullTimeoutMs }));
      pull = Promise.resolve()
        .then(() => fetch(ref))
        .then(
          () => undefined,
          (err: unknown) => this.log.warn('pulling image failed', { image: ref, err: errorMessage(err) }),
        )
        .finally(() => this.pulls.delete(ref));
      this.pulls.set(ref, pull);
    }
    await pull;
    if (!(await this.hasImage(ref))) throw new NotFound(`No such image: ${ref}`);
  }

  private async hasImage(ref: string): Promise<boolean> {
    try {
      await this.o.images.resolve(ref);
      return true;
    } catch (err) {
      if (err instanceof NotFound) return false;
      throw err;
    }
  }

  /** Stops every controller; containers keep running (live restore) and are adopted by the next start(). */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    this.started = false;
    this.starting = undefined;
    this.dependencies = NO_TASK_DEPENDENCIES;
    const all = [...this.controllers.values()];
    this.controllers.clear();
    this.adopted.clear();
    await Promise.all(all.map((c) => c.close()));
    await Promise.all([...this.removals.values()]);
    // Overlay devices go with the daemon; containers keep running and get them back when adopted again.
    await this.nodeNetworks?.stop();
    this.nodeNetworks = undefined;
  }

  /** For tests and `docker ps`-like views: the state of each task this executor drives. */
  states(): Map<string, string> {
    return new Map([...this.controllers].map(([id, c]) => [id, c.state]));
  }
}
