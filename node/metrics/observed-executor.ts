// An executor wrapper that watches what passes through it: the node's tasks by state (the latest of what the
// dispatcher assigned and what the executor reported) and how long containers take from STARTING to RUNNING.
import { taskStateRank, type TaskState } from '../../api/index.js';
import type { Executor, TaskStatusReport } from '../../worker/index.js';

export class ObservedExecutor implements Executor {
  /** This node's assigned tasks and the furthest state seen for each. */
  private readonly states = new Map<string, TaskState>();
  /** When each task was reported STARTING (ms, monotonic). */
  private readonly starting = new Map<string, number>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly inner: Executor,
    private readonly onContainerStart: (seconds: number) => void,
  ) {
    this.unsubscribe = inner.onStatus((r) => this.observe(r));
  }

  setAssignments(...args: Parameters<Executor['setAssignments']>): void {
    const [tasks] = args;
    const ids = new Set(tasks.map((t) => t.ID));
    for (const id of [...this.states.keys()]) {
      if (ids.has(id)) continue;
      this.states.delete(id);
      this.starting.delete(id);
    }
    for (const t of tasks) this.advance(t.ID, t.Status.State);
    this.inner.setAssignments(...args);
  }

  setNetworks(...args: Parameters<NonNullable<Executor['setNetworks']>>): void {
    this.inner.setNetworks?.(...args);
  }

  onStatus(listener: (report: TaskStatusReport) => void): () => void {
    return this.inner.onStatus(listener);
  }

  logs(...args: Parameters<NonNullable<Executor['logs']>>): Promise<void> {
    return this.inner.logs ? this.inner.logs(...args) : Promise.resolve();
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  async stop(): Promise<void> {
    await this.inner.stop();
  }

  /** Stops observing (the daemon is done with the executor). */
  close(): void {
    this.unsubscribe();
  }

  /** Counts of this node's tasks per state. */
  countByState(): Map<TaskState, number> {
    const counts = new Map<TaskState, number>();
    for (const s of this.states.values()) counts.set(s, (counts.get(s) ?? 0) + 1);
    return counts;
  }

  private observe(r: TaskStatusReport): void {
    const state = r.status.State;
    // Reports of tasks no longer assigned (a late exit) do not bring them back.
    if (this.states.has(r.taskId)) this.advance(r.taskId, state);
    if (state === 'starting') this.starting.set(r.taskId, performance.now());
    else if (state === 'running') {
      const t0 = this.starting.get(r.taskId);
      if (t0 !== undefined) this.onContainerStart((performance.now() - t0) / 1000);
      this.starting.delete(r.taskId);
    } else if (taskStateRank(state) > taskStateRank('running')) this.starting.delete(r.taskId);
  }

  private advance(id: string, state: TaskState): void {
    const known = this.states.get(id);
    if (known === undefined || taskStateRank(state) > taskStateRank(known)) this.states.set(id, state);
  }
}
