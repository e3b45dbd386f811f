// The scheduler: an incremental index of nodes and the tasks on them, and batch placement of pending tasks.
import type { Node, Task } from '../api/index.js';
import { errorMessage } from '../api/index.js';
import { parseConstraints } from './constraints.js';
import { explain, pipelineFor, type TaskGroupContext } from './filters.js';
import { MinHeap } from './heap.js';
import { NodeInfo, reservationOf, type Reservation } from './node-info.js';
import { LoadOrder } from './load-order.js';
import { SpreadIndex, placeOnTree, type SpreadBranch } from './spread.js';

export interface Assignment {
  taskId: string;
  nodeId: string;
}

export interface Unplaced {
  taskId: string;
  /** What Swarm writes into the task's Status.Err, e.g. "no suitable node (insufficient resources on 2 nodes)". */
  reason: string;
}

export interface ScheduleResult {
  assignments: Assignment[];
  failures: Unplaced[];
}

export interface SchedulerOptions {
  /** Seeded RNG in [0, 1) for tie-breaks between equally loaded nodes; same seed and inputs → same placements. */
  random?: () => number;
}

/** Distinct placement signatures remembered per node (a few in practice); past this the memo starts over. */
const STATIC_CACHE_LIMIT = 64;

/** Key of identical tasks: same service and same spec (cached per spec object, since specs are shared). */
const specKeys = new WeakMap<object, string>();
function groupKey(t: Task): string {
  let k = specKeys.get(t.Spec);
  if (k === undefined) specKeys.set(t.Spec, (k = JSON.stringify(t.Spec)));
  return `${t.ServiceID}\u0000${k}\u0000${JSON.stringify(t.Endpoint?.Ports ?? null)}`;
}

/**
 * Usage: keep the index current with `setNode`/`removeNode` and `addTask`/`removeTask` (tasks that hold a node:
 * assigned through running) from store events, then call `schedule(pendingTasks)`. Placed tasks are counted on
 * their nodes at once; the caller writes the assignments (ASSIGNED + NodeID) to the store.
 */
export class Scheduler {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly taskNode = new Map<string, string>();
  /** Tasks counted before their node was known. */
  private readonly waiting = new Map<string, Task[]>();
  private readonly random: () => number;
  private readonly order = new LoadOrder();
  /** Spread trees by preference list; dropped whenever node membership or labels change. */
  private readonly spreadIndexes = new Map<string, SpreadIndex>();
  /** Nodes holding at least one task of a service. */
  private readonly serviceNodes = new Map<string, Set<NodeInfo>>();

  constructor(opts: SchedulerOptions = {}) {
    this.random = opts.random ?? Math.random;
  }

  get nodeCount(): number {
    return this.nodes.size;
  }

  setNode(node: Node): void {
    const info = this.nodes.get(node.ID);
    if (info) {
      const labels = (n: Node) => JSON.stringify([n.Spec.Labels ?? {}, n.Description?.Engine?.Labels ?? {}]);
      if (labels(info.node) !== labels(node)) this.spreadIndexes.clear();
      return info.setNode(node);
    }
    this.spreadIndexes.clear();
    const created = new NodeInfo(node, this.random());
    this.nodes.set(node.ID, created);
    this.order.insert(created);
    for (const t of this.waiting.get(node.ID) ?? []) this.count(created, t.ID, reservationOf(t));
    this.waiting.delete(node.ID);
  }

  removeNode(id: string): void {
    const info = this.nodes.get(id);
    if (!info) return;
    for (const [taskId, r] of info.reservations) {
      this.taskNode.delete(taskId);
      this.serviceNodes.get(r.serviceId)?.delete(info);
    }
    this.order.remove(info);
    this.nodes.delete(id);
    this.spreadIndexes.clear();
  }

  /** Counts a task that occupies a node (ignored without NodeID; recounted if it moved). */
  addTask(task: Task): void {
    if (!task.NodeID) return;
    const current = this.taskNode.get(task.ID);
    if (current === task.NodeID) return;
    if (current) this.removeTask(task.ID);
    this.taskNode.set(task.ID, task.NodeID);
    const info = this.nodes.get(task.NodeID);
    if (info) this.count(info, task.ID, reservationOf(task));
    else this.waiting.set(task.NodeID, [...(this.waiting.get(task.NodeID) ?? []), task]);
  }

  removeTask(taskId: string): void {
    const nodeId = this.taskNode.get(taskId);
    if (!nodeId) return;
    this.taskNode.delete(taskId);
    const info = this.nodes.get(nodeId);
    if (info) this.uncount(info, taskId);
    else
      this.waiting.set(
        nodeId,
        (this.waiting.get(nodeId) ?? []).filter((t) => t.ID !== taskId),
      );
  }

  private count(info: NodeInfo, taskId: string, r: Reservation): void {
    if (info.reservations.has(taskId)) return;
    const before = info.totalTasks;
    this.order.remove(info);
    info.add(taskId, r);
    this.order.insert(info);
    for (const idx of this.spreadIndexes.values()) idx.reorder(info, before);
    let set = this.serviceNodes.get(r.serviceId);
    if (!set) this.serviceNodes.set(r.serviceId, (set = new Set()));
    set.add(info);
  }

  private uncount(info: NodeInfo, taskId: string): void {
    const r = info.reservations.get(taskId);
    if (!r) return;
    const before = info.totalTasks;
    this.order.remove(info);
    info.remove(taskId);
    this.order.insert(info);
    for (const idx of this.spreadIndexes.values()) idx.reorder(info, before);
    if (info.serviceCount(r.serviceId) === 0) {
      const set = this.serviceNodes.get(r.serviceId);
      set?.delete(info);
      if (set?.size === 0) this.serviceNodes.delete(r.serviceId);
    }
  }

  /**
   * The nodes a group of `k` tasks can land on without preferences: every eligible node already running the
   * service, plus the first `k` eligible nodes without it in load order. The heap over this set picks exactly
   * what a heap over the whole cluster would, since a node without the service always ranks before one with it.
   */
  private candidates(
    k: number,
    sid: string,
    passes: (n: NodeInfo) => boolean,
    leaf?: { index: SpreadIndex; branch: SpreadBranch },
  ): NodeInfo[] {
    const out: NodeInfo[] = [];
    for (const n of this.serviceNodes.get(sid) ?? [])
      if ((!leaf || leaf.index.leafOf.get(n) === leaf.branch) && passes(n)) out.push(n);
    let fresh = 0;
    if (k === 0) return out;
    (leaf ? leaf.branch.order! : this.order).visitAscending((n) => {
      if (passes(n) && n.serviceCount(sid) === 0) {
        out.push(n);
        fresh++;
      }
      return fresh < k;
    });
    return out;
  }

  schedule(pending: Task[]): ScheduleResult {
    const groups = new Map<string, Task[]>();
    for (const t of pending) {
      const k = groupKey(t);
      const g = groups.get(k);
      if (g) g.push(t);
      else groups.set(k, [t]);
    }
    const out: ScheduleResult = { assignments: [], failures: [] };
    for (const tasks of groups.values()) this.scheduleGroup(tasks, out);
    return out;
  }

  private scheduleGroup(tasks: Task[], out: ScheduleResult): void {
    const sample = tasks[0]!;
    const placement = sample.Spec.Placement;
    let ctx: TaskGroupContext;
    try {
      ctx = {
        serviceId: sample.ServiceID,
        reservation: reservationOf(sample),
        constraints: parseConstraints(placement?.Constraints ?? []),
        platforms: placement?.Platforms ?? [],
        maxReplicas: placement?.MaxReplicas ?? 0,
      };
    } catch (err) {
      for (const t of tasks) out.failures.push({ taskId: t.ID, reason: errorMessage(err) });
      return;
    }
    const { staticFilters, dynamicFilters } = pipelineFor(ctx);
    // Static filters depend only on the node and the placement: remembered per node until the node changes, so
    // the ineligible nodes that always sit at the light end of the load order cost a lookup, not a re-evaluation.
    const staticKey = JSON.stringify([placement?.Constraints ?? [], placement?.Platforms ?? []]);
    const passesStatic = (n: NodeInfo): boolean => {
      let ok = n.staticPass.get(staticKey);
      if (ok === undefined) {
        ok = staticFilters.every((f) => f.check(n, ctx));
        if (n.staticPass.size >= STATIC_CACHE_LIMIT) n.staticPass.clear();
        n.staticPass.set(staticKey, ok);
      }
      return ok;
    };
    const sid = ctx.serviceId;
    const less = (a: NodeInfo, b: NodeInfo): boolean => {
      const sa = a.serviceCount(sid);
      const sb = b.serviceCount(sid);
      if (sa !== sb) return sa < sb;
      if (a.totalTasks !== b.totalTasks) return a.totalTasks < b.totalTasks;
      return a.rank < b.rank;
    };
    let next = 0;
    const heap = new MinHeap<NodeInfo>(less);
    const placeOnNodes = (nodes: NodeInfo[], n: number): number => {
      heap.reset(nodes.filter((node) => dynamicFilters.every((f) => f.check(node, ctx))));
      let placed = 0;
      while (placed < n && heap.size > 0) {
        const node = heap.pop()!;
        const task = tasks[next++]!;
        this.count(node, task.ID, ctx.reservation);
        this.taskNode.set(task.ID, node.id);
        out.assignments.push({ taskId: task.ID, nodeId: node.id });
        placed++;
        if (dynamicFilters.every((f) => f.check(node, ctx))) heap.push(node);
      }
      return placed;
    };
    const descriptors = (placement?.Preferences ?? []).map((p) => p.Spread.SpreadDescriptor);
    const passes = (n: NodeInfo) => passesStatic(n) && dynamicFilters.every((f) => f.check(n, ctx));
    if (descriptors.length === 0) {
      placeOnNodes(this.candidates(tasks.length, sid, passes), tasks.length);
    } else {
      const key = descriptors.join('\u0000');
      let index = this.spreadIndexes.get(key);
      if (!index) this.spreadIndexes.set(key, (index = new SpreadIndex(descriptors, this.nodes.values())));
      const idx = index;
      const counts = idx.counts(this.serviceNodes.get(sid) ?? [], sid);
      placeOnTree(idx.root, tasks.length, counts, (branch, n) =>
        placeOnNodes(this.candidates(n, sid, passes, { index: idx, branch }), n),
      );
    }
    if (next < tasks.length) {
      const reason = explain(this.nodes.values(), ctx);
      for (const t of tasks.slice(next)) out.failures.push({ taskId: t.ID, reason });
    }
  }
}
