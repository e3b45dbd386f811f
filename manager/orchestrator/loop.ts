// Leader-only: runs an orchestration pass whenever services, nodes or tasks change in a way a plan depends on
// (coalesced), and when a restart delay or an update monitor period is due, then writes the plan in batches.
import { createLogger, isTerminal, taskStateRank, type Logger, type Task } from '../../api/index.js';
import { batchUpdate, type BatchUnit, type MemoryStore } from '../store/index.js';
import { StoreLoop, taskChangeMatters } from '../store-loop.js';
import { planOrchestration } from './plan.js';

/** Passes also run this often, so nothing waits on an event that never comes. */
const IDLE_MS = 1000;

/** Where a task stands for the orchestrators: not yet on a node, on one, running, or how it ended. */
function phase(t: Task): string {
  const s = t.Status.State;
  if (s === 'running' || isTerminal(s)) return s;
  return taskStateRank(s) >= taskStateRank('assigned') ? 'placed' : 'unplaced';
}

/**
 * A task update a plan can depend on. A starting task's moves between ACCEPTED and STARTING (four of the six
 * reports each new task makes) change nothing the orchestrators read; the idle pass covers anything timed.
 */
const planChange = (t: Task, old: Task): boolean =>
  t.DesiredState !== old.DesiredState || t.NodeID !== old.NodeID || phase(t) !== phase(old);

export class OrchestratorLoop {
  private readonly loop: StoreLoop;

  constructor(
    private readonly store: MemoryStore,
    log?: Logger,
  ) {
    this.loop = new StoreLoop(store, {
      relevant: (e) =>
        e.kind === 'service' ||
        e.kind === 'node' ||
        e.kind === 'cluster' ||
        (e.kind === 'task' && taskChangeMatters(e, planChange)),
      coalesceMs: 20,
      pass: () => this.pass(),
      retryMs: 500,
      log: log ?? createLogger({ component: 'orchestrator' }),
      what: 'orchestration',
    });
  }

  start(): void {
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
  }

  private async pass(): Promise<number> {
    const { services, tasks, nodes, limit } = this.store.view((tx) => ({
      services: tx.all('service'),
      tasks: tx.all('task'),
      nodes: tx.all('node'),
      limit: tx.all('cluster')[0]?.Spec.Orchestration?.TaskHistoryRetentionLimit ?? 5,
    }));
    const plan = planOrchestration(services, tasks, nodes, limit, Date.now());
    const units: BatchUnit[] = [
      ...plan.services.map((s): BatchUnit => (tx) => {
        const cur = tx.get('service', s.ID);
        if (!cur) return;
        cur.UpdateStatus = s.UpdateStatus;
        if (s.PreviousSpec !== cur.PreviousSpec) {
          cur.Spec = s.Spec;
          cur.PreviousSpec = s.PreviousSpec;
        }
        tx.update('service', cur);
      }),
      ...plan.create.map(
        (t): BatchUnit =>
          (tx) =>
            tx.create('task', t),
      ),
      ...plan.desired.map((t): BatchUnit => (tx) => {
        const cur = tx.get('task', t.ID);
        if (!cur || cur.DesiredState === t.DesiredState) return;
        cur.DesiredState = t.DesiredState;
        tx.update('task', cur);
      }),
      ...plan.delete.map((id): BatchUnit => (tx) => {
        if (tx.get('task', id)) tx.delete('task', id);
      }),
    ];
    if (units.length) await batchUpdate(this.store, units);
    return Math.min(IDLE_MS, plan.wakeInMs ?? Infinity);
  }
}
