// Leader-only: gives tasks their network addresses, services their VIPs and published ports, and nodes their
// ingress load-balancer address, then moves allocated tasks NEW → PENDING for the scheduler. The state is
// rebuilt from the store's objects whenever this manager becomes leader, so nothing is persisted on the side.
import {
  createLogger,
  errorMessage,
  taskStateRank,
  type Endpoint,
  type Logger,
  type NetworkAttachment,
  type Service,
  type Task,
} from '../../api/index.js';
import { batchUpdate, type BatchUnit, type MemoryStore } from '../store/index.js';
import { StoreLoop, taskChangeMatters } from '../store-loop.js';
import { allocateNetworkStatus, DEFAULT_POOLS, isAllocated } from './network-status.js';
import { AllocatorState, type AllocatorUsage } from './state.js';

const rank = taskStateRank;
/** swarmkit frees a task's addresses once it is meant to stop and has stopped (or is gone from the store). */
export const taskDead = (t: Task): boolean =>
  rank(t.DesiredState) > rank('running') && rank(t.Status.State) > rank('running');
const wantsAllocation = (t: Task): boolean =>
  t.Status.State === 'new' && rank(t.DesiredState) <= rank('running');

/** A task update the allocator acts on: a task to allocate, or one whose addresses are freed. */
const allocationChange = (t: Task, old: Task): boolean => wantsAllocation(t) || taskDead(t) !== taskDead(old);

/** JSON with sorted keys, to tell whether a computed status differs from the recorded one. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => a.localeCompare(b)))
      : x,
  );
}

export class Allocator {
  private state?: AllocatorState;
  private readonly loop: StoreLoop;
  private readonly log: Logger;
  /** Last failure per object, so a lasting conflict is logged once, not every pass. */
  private readonly failures = new Map<string, string>();

  constructor(
    private readonly store: MemoryStore,
    log?: Logger,
  ) {
    this.log = log ?? createLogger({ component: 'allocator' });
    this.loop = new StoreLoop(store, {
      relevant: (e) =>
        e.kind === 'task'
          ? taskChangeMatters(e, allocationChange)
          : e.kind !== 'secret' && e.kind !== 'config',
      coalesceMs: 5,
      pass: () => this.pass(),
      retryMs: 500,
      log: this.log,
      what: 'allocation',
    });
  }

  start(): void {
    this.state = undefined;
    this.loop.start();
  }

  stop(): void {
    this.loop.stop();
    this.state = undefined;
  }

  /** What is held right now (undefined until the first pass after start). */
  usage(): AllocatorUsage | undefined {
    return this.state?.usage();
  }

  private fail(id: string, what: string, err: unknown): void {
    const msg = errorMessage(err);
    if (this.failures.get(id) === msg) return;
    this.failures.set(id, msg);
    this.log.warn(`cannot allocate ${what}`, { id, err: msg });
  }

  private async pass(): Promise<undefined> {
    const { networks, services, tasks, nodes, cluster } = this.store.view((tx) => ({
      networks: tx.all('network'),
      services: tx.all('service'),
      tasks: tx.all('task'),
      nodes: tx.all('node'),
      cluster: tx.all('cluster')[0],
    }));
    const units: BatchUnit[] = [];
    const fresh = !this.state;
    const state = (this.state ??= new AllocatorState());

    // Networks: created allocated by the API; any that is not (older data) gets its status here.
    const pools = cluster ?? DEFAULT_POOLS;
    for (const n of networks) {
      if (!isAllocated(n)) {
        try {
          Object.assign(n, allocateNetworkStatus(n.Spec, networks.filter(isAllocated), pools));
        } catch (err) {
          this.fail(n.ID, `network ${n.Spec.Name}`, err);
          continue;
        }
        units.push((tx) => {
          const cur = tx.get('network', n.ID);
          if (!cur || isAllocated(cur)) return;
          tx.update('network', { ...cur, DriverState: n.DriverState, IPAMOptions: n.IPAMOptions });
        });
      }
      state.setNetwork(n);
    }
    const netIds = new Set(networks.map((n) => n.ID));
    for (const id of state.networkIds()) if (!netIds.has(id)) state.dropNetwork(id);

    if (fresh) {
      // A new leader takes over what earlier leaders recorded before handing out anything new.
      for (const s of services) state.restoreService(s);
      for (const t of tasks) if (!taskDead(t)) state.restoreTask(t);
      for (const n of nodes) state.restoreNode(n);
    }

    // Services: endpoint (ports, VIPs) recomputed from the spec; written when it changed.
    const byId = new Map<string, Service>();
    const blocked = new Set<string>();
    for (const s of services) {
      byId.set(s.ID, s);
      let endpoint: Endpoint;
      try {
        endpoint = state.serviceEndpoint(s);
        this.failures.delete(s.ID);
      } catch (err) {
        blocked.add(s.ID);
        this.fail(s.ID, `service ${s.Spec.Name}`, err);
        continue;
      }
      if (canonical(endpoint) === canonical(s.Endpoint)) continue;
      units.push((tx) => {
        const cur = tx.get('service', s.ID);
        if (!cur || cur.Version.Index !== s.Version.Index) return; // changed since: the next pass redoes it
        cur.Endpoint = endpoint;
        tx.update('service', cur);
      });
    }
    for (const id of state.serviceIds()) if (!byId.has(id)) state.releaseService(id);

    // Tasks: free the dead and the removed, allocate the new ones and hand them to the scheduler.
    const taskById = new Map(tasks.map((t) => [t.ID, t]));
    for (const id of state.taskIds()) {
      const t = taskById.get(id);
      if (!t || taskDead(t)) state.releaseTask(id);
    }
    const now = new Date().toISOString();
    for (const t of tasks) {
      if (!wantsAllocation(t) || blocked.has(t.ServiceID)) continue;
      let attachments: NetworkAttachment[];
      try {
        attachments = state.taskAttachments(t, byId.get(t.ServiceID));
      } catch (err) {
        this.fail(t.ID, `task ${t.ID}`, err);
        continue;
      }
      units.push((tx) => {
        const cur = tx.get('task', t.ID);
        if (!cur || !wantsAllocation(cur)) return;
        if (attachments.length) cur.NetworksAttachments = attachments;
        cur.Status = { Timestamp: now, State: 'pending', Message: 'pending task scheduling' };
        tx.update('task', cur);
      });
    }

    // Nodes: one load-balancer address on the ingress network each.
    const nodeIds = new Set(nodes.map((n) => n.ID));
    for (const id of state.nodeIds()) if (!nodeIds.has(id)) state.releaseNode(id);
    for (const n of nodes) {
      let a: NetworkAttachment | undefined;
      try {
        a = state.nodeAttachment(n.ID);
      } catch (err) {
        this.fail(n.ID, `node ${n.ID}`, err);
        continue;
      }
      const want = a ? [a] : undefined;
      if (canonical(want) === canonical(n.Attachments)) continue;
      units.push((tx) => {
        const cur = tx.get('node', n.ID);
        if (!cur) return;
        if (want) cur.Attachments = want;
        else delete cur.Attachments;
        tx.update('node', cur);
      });
    }

    if (units.length) await batchUpdate(this.store, units);
    return undefined;
  }
}
