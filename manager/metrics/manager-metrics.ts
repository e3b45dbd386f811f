// The manager's Prometheus collectors. Cluster gauges are counted at scrape time from this manager's replica of
// the store, so followers report them too; latency histograms are fed by hooks the store and Raft call. Metrics
// are registered while a manager is attached (a worker reports none of them), leader-only ones while it leads.
import { Counter, Gauge, Histogram, type Metric, type Registry } from 'prom-client';
import { TASK_STATES, taskStateRank, type Task } from '../../api/index.js';
import type { RaftObserver } from '../../raft/index.js';
import type { MemoryStore, StoreEvent, StoreObserver } from '../store/index.js';
import { NODE_STATES, countClusterObjects, type ClusterCounts } from './cluster-counts.js';

/** What the metrics read from a running manager (the Manager class has this shape). */
export interface ManagerMetricsSource {
  readonly store: MemoryStore;
  readonly isLeader: boolean;
  onLeaderChange(listener: (c: { isLeader: boolean }) => void): () => void;
  readonly raft: { status(): { term: number; commit: number; applied: number } };
}

export interface ManagerMetricsOptions {
  /** Services that keep their own `service` label in tsswarm_tasks; the rest count as `_other`. */
  maxServiceLabels?: number;
}

/** Latencies of in-memory and disk work: 0.5 ms … 10 s. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Task creation to running: pulls and container starts take seconds. */
const SCHEDULING_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const rank = taskStateRank;

export class ManagerMetrics {
  private source?: ManagerMetricsSource;
  private detachSource: (() => void)[] = [];
  private cache?: { index: number; counts: ClusterCounts };
  private readonly maxServices: number;
  /** Reported whenever a manager is attached. */
  private readonly always: Metric[];
  /** Reported only while the attached manager is the Raft leader. */
  private readonly leaderOnly: Metric[];
  private readonly transactionLatency: Histogram;
  private readonly schedulingDelay: Histogram;
  private readonly snapshotLatency: Histogram;
  private readonly walFsync: Histogram;
  private readonly proposals: Counter;
  private readonly store: Record<'read_tx' | 'write_tx' | 'lookup' | 'batch', Histogram>;

  /** Hooks for the manager's RaftNode. */
  readonly raftObserver: RaftObserver;
  /** Hooks for the manager's MemoryStore. */
  readonly storeObserver: StoreObserver;

  constructor(
    private readonly registry: Registry,
    o: ManagerMetricsOptions = {},
  ) {
    this.maxServices = o.maxServiceLabels ?? 50;
    const counts = () => this.counts();
    const gauge = (name: string, help: string, read: (c: ClusterCounts) => number) =>
      untyped(
        new Gauge({
          name,
          help,
          registers: [],
          collect() {
            const c = counts();
            if (c) this.set(read(c));
          },
        }),
      );
    const histogram = (name: string, help: string, buckets = LATENCY_BUCKETS) =>
      new Histogram({ name, help, buckets, registers: [] });
    const source = () => this.source;
    const raftGauge = (
      name: string,
      help: string,
      read: (s: ReturnType<ManagerMetricsSource['raft']['status']>) => number,
    ) =>
      new Gauge({
        name,
        help,
        registers: [],
        collect() {
          const s = source();
          if (s) this.set(read(s.raft.status()));
        },
      });
    this.store = {
      read_tx: histogram(
        'swarm_store_read_tx_latency_seconds',
        'Duration of store read transactions (views).',
      ),
      write_tx: histogram(
        'swarm_store_write_tx_latency_seconds',
        'Duration of store write transactions, from proposal until applied on this replica.',
      ),
      lookup: histogram('swarm_store_lookup_latency_seconds', 'Duration of store lookups (get and find).'),
      batch: histogram(
        'swarm_store_batch_latency_seconds',
        'Duration of store batches (all their transactions).',
      ),
    };
    this.snapshotLatency = histogram(
      'swarm_raft_snapshot_latency_seconds',
      'Duration of taking a Raft snapshot.',
    );
    this.walFsync = histogram(
      'tsswarm_raft_wal_fsync_seconds',
      'Duration of Raft WAL appends that end with fdatasync (write and sync).',
    );
    this.proposals = new Counter({
      name: 'tsswarm_raft_proposals_total',
      help: 'Store transactions proposed to Raft by this manager while leader.',
      registers: [],
    });
    this.transactionLatency = histogram(
      'swarm_raft_transaction_latency_seconds',
      'Raft transaction latency: from proposal on the leader until committed and applied there.',
    );
    this.schedulingDelay = histogram(
      'swarm_dispatcher_scheduling_delay_seconds',
      'Time a task takes from creation (NEW) to RUNNING, observed by the leader.',
      SCHEDULING_BUCKETS,
    );
    this.always = [
      new Gauge({
        name: 'swarm_manager_nodes',
        help: 'The number of nodes in the cluster, by state.',
        labelNames: ['state'],
        registers: [],
        collect() {
          const c = counts();
          this.reset();
          if (c) for (const s of NODE_STATES) this.set({ state: s }, c.nodes[s]);
        },
      }),
      untyped(
        new Gauge({
          name: 'swarm_manager_tasks_total',
          help: 'The number of tasks in the cluster object store, by state.',
          labelNames: ['state'],
          registers: [],
          collect() {
            const c = counts();
            this.reset();
            if (c) for (const s of TASK_STATES) this.set({ state: s }, c.tasks[s]);
          },
        }),
      ),
      new Gauge({
        name: 'tsswarm_tasks',
        help: 'Tasks in the cluster by service name and state (services beyond the label limit as service="_other"; zero states omitted except running).',
        labelNames: ['service', 'state'],
        registers: [],
        collect() {
          const c = counts();
          this.reset();
          if (!c) return;
          for (const [service, states] of c.tasksByService) {
            this.set({ service, state: 'running' }, states.get('running') ?? 0);
            for (const [state, n] of states) this.set({ service, state }, n);
          }
        },
      }),
      gauge(
        'swarm_manager_services_total',
        'The number of services in the cluster object store.',
        (c) => c.services,
      ),
      gauge(
        'swarm_manager_networks_total',
        'The number of networks in the cluster object store.',
        (c) => c.networks,
      ),
      gauge(
        'swarm_manager_secrets_total',
        'The number of secrets in the cluster object store.',
        (c) => c.secrets,
      ),
      gauge(
        'swarm_manager_configs_total',
        'The number of configs in the cluster object store.',
        (c) => c.configs,
      ),
      new Gauge({
        name: 'swarm_manager_leader',
        help: 'Indicates if this manager node is a leader (1) or not (0).',
        registers: [],
        collect() {
          this.set(source()?.isLeader ? 1 : 0);
        },
      }),
      raftGauge('tsswarm_raft_term', 'The Raft term of this manager.', (s) => s.term),
      raftGauge(
        'tsswarm_raft_commit_index',
        'The highest Raft log index this manager knows committed.',
        (s) => s.commit,
      ),
      raftGauge(
        'tsswarm_raft_applied_index',
        'The highest Raft log index this manager has applied.',
        (s) => s.applied,
      ),
      this.proposals,
      this.walFsync,
      this.snapshotLatency,
      ...Object.values(this.store),
    ];
    this.leaderOnly = [this.transactionLatency, this.schedulingDelay];
    this.raftObserver = {
      walFsync: (s) => this.walFsync.observe(s),
      proposed: () => this.proposals.inc(),
      applied: (s) => this.transactionLatency.observe(s),
      snapshot: (s) => this.snapshotLatency.observe(s),
    };
    this.storeObserver = {
      readTx: (s) => this.store.read_tx.observe(s),
      writeTx: (s) => this.store.write_tx.observe(s),
      lookup: (s) => this.store.lookup.observe(s),
      batch: (s) => this.store.batch.observe(s),
    };
  }

  /** Starts reporting for `source` (a started manager); replaces any manager attached before. */
  attach(source: ManagerMetricsSource): void {
    if (this.source) this.detach(this.source);
    this.source = source;
    this.cache = undefined;
    for (const m of this.always) this.register(m);
    const follow = (isLeader: boolean) => {
      for (const m of this.leaderOnly) {
        if (isLeader) this.register(m);
        else this.unregister(m);
      }
      this.stopWatching?.();
      this.stopWatching = isLeader
        ? source.store.watch((events) => this.observeScheduling(events))
        : undefined;
    };
    this.detachSource.push(source.onLeaderChange((c) => follow(c.isLeader)));
    this.detachSource.push(() => follow(false));
    follow(source.isLeader);
  }

  /** Stops reporting for `source` (the manager stops). */
  detach(source: ManagerMetricsSource): void {
    if (this.source !== source) return;
    for (const d of this.detachSource.splice(0)) d();
    for (const m of this.always) this.unregister(m);
    this.source = undefined;
    this.cache = undefined;
  }

  private stopWatching?: () => void;

  /** Tasks reaching RUNNING, as the leader applies their status: the time since they were created. */
  private observeScheduling(events: StoreEvent[]): void {
    const now = Date.now();
    for (const e of events) {
      if (e.kind !== 'task' || e.op !== 'update' || !e.old) continue;
      const t = e.obj as Task;
      const before = (e.old as Task).Status.State;
      if (t.Status.State !== 'running' || rank(before) >= rank('running')) continue;
      const created = Date.parse(t.CreatedAt);
      if (Number.isFinite(created)) this.schedulingDelay.observe(Math.max(0, now - created) / 1000);
    }
  }

  /** One count per applied store state, shared by the gauges of a scrape. */
  private counts(): ClusterCounts | undefined {
    const s = this.source;
    if (!s) return undefined;
    const index = s.store.lastApplied;
    if (this.cache?.index !== index)
      this.cache = { index, counts: countClusterObjects(s.store, this.maxServices) };
    return this.cache.counts;
  }

  private register(m: Metric): void {
    const name = (m as unknown as { name: string }).name;
    if (!this.registry.getSingleMetric(name)) this.registry.registerMetric(m);
  }

  private unregister(m: Metric): void {
    const name = (m as unknown as { name: string }).name;
    if (this.registry.getSingleMetric(name) === m) this.registry.removeSingleMetric(name);
  }
}

/**
 * Swarm's object counts keep Docker's `swarm_manager_*_total` names, yet they go down as well as up: exposed as
 * gauges, Prometheus' naming rules (promtool check metrics) reject a non-counter named `*_total`. Exposed
 * `untyped`, the names stay Docker's, the values read as gauges do, and the text passes promtool.
 */
function untyped<T extends Gauge<string>>(g: T): T {
  (g as unknown as { type: string }).type = 'untyped';
  return g;
}
