// Leader-only: runs an orchestration pass whenever services, tasks or nodes change (coalesced), and when a
// restart delay or an update monitor period is due, then writes the plan in batched transactions.
import { createLogger, errorMessage, type Logger } from '../../api/index.js';
import { batchUpdate, type BatchUnit, type MemoryStore, type StoreEvent } from '../store/index.js';
import { planOrchestration } from './plan.js';

const COALESCE_MS = 20;
/** Passes also run this often, so nothing waits on an event that never comes. */
const IDLE_MS = 1000;

export class OrchestratorLoop {
  private timer?: NodeJS.Timeout;
  private due = 0;
  private unwatch?: () => void;
  private running = false;
  private busy = false;
  private again = false;
  private readonly log: Logger;

  constructor(
    private readonly store: MemoryStore,
    log?: Logger,
  ) {
    this.log = log ?? createLogger({ component: 'orchestrator' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unwatch = this.store.watch((events) => {
      if (events.some(relevant)) this.soon(COALESCE_MS);
    });
    this.soon(0);
  }

  stop(): void {
    this.running = false;
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private soon(ms: number): void {
    if (!this.running) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    // Never postpone a pass already due sooner (a stream of events must not starve it).
    const due = Date.now() + ms;
    if (this.timer && this.due <= due) return;
    if (this.timer) clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => void this.pass(), ms);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    this.timer = undefined;
    if (!this.running) return;
    this.busy = true;
    let wake = IDLE_MS;
    try {
      const { services, tasks, nodes, limit } = this.store.view((tx) => ({
        services: tx.all('service'),
        tasks: tx.all('task'),
        nodes: tx.all('node'),
        limit: tx.all('cluster')[0]?.Spec.Orchestration?.TaskHistoryRetentionLimit ?? 5,
      }));
      const plan = planOrchestration(services, tasks, nodes, limit, Date.now());
      wake = Math.min(wake, plan.wakeInMs ?? Infinity);
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
    } catch (err) {
      this.log.warn('orchestration pass failed; retrying', { err: errorMessage(err) });
      wake = Math.min(wake, 500);
    } finally {
      this.busy = false;
    }
    if (this.again) {
      this.again = false;
      wake = COALESCE_MS;
    }
    this.soon(wake);
  }
}

function relevant(e: StoreEvent): boolean {
  return e.kind === 'service' || e.kind === 'task' || e.kind === 'node' || e.kind === 'cluster';
}
