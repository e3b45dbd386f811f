// Placement preferences as Swarm's decision tree: spread tasks evenly over the values of each label, in order.
// The tree's shape (which node sits in which branch) is indexed once per preference list and kept current; the
// per-service task counts of each branch are computed per placement from the nodes running the service.
import { LoadOrder } from './load-order.js';
import type { NodeInfo } from './node-info.js';

export interface SpreadBranch {
  key: string;
  parent?: SpreadBranch;
  children?: SpreadBranch[];
  /** Leaves only: their nodes in load order. */
  order?: LoadOrder;
}

const NODE_LABELS = 'node.labels.';
const ENGINE_LABELS = 'engine.labels.';

export function labelValue(n: NodeInfo, descriptor: string): string {
  // The prefix is matched case-insensitively (as Swarm); the label name itself is case sensitive.
  const lower = descriptor.toLowerCase();
  if (lower.startsWith(NODE_LABELS) && descriptor.length > NODE_LABELS.length)
    return n.node.Spec.Labels?.[descriptor.slice(NODE_LABELS.length)] ?? '';
  if (lower.startsWith(ENGINE_LABELS) && descriptor.length > ENGINE_LABELS.length)
    return n.node.Description?.Engine?.Labels?.[descriptor.slice(ENGINE_LABELS.length)] ?? '';
  // Swarm only spreads over labels; any other descriptor puts every node in one branch.
  return '';
}

/** The tree of one preference list over all known nodes. */
export class SpreadIndex {
  readonly root: SpreadBranch = { key: '' };
  readonly leafOf = new Map<NodeInfo, SpreadBranch>();

  constructor(
    readonly descriptors: string[],
    nodes: Iterable<NodeInfo>,
  ) {
    for (const n of nodes) this.add(n);
    // With no nodes the root is an empty leaf.
    if (!this.root.children) this.root.order ??= new LoadOrder();
    this.sortChildren(this.root);
  }

  private add(n: NodeInfo): void {
    let b = this.root;
    for (const d of this.descriptors) {
      const v = labelValue(n, d);
      b.children ??= [];
      let c = b.children.find((x) => x.key === v);
      if (!c) b.children.push((c = { key: v, parent: b }));
      b = c;
    }
    b.order ??= new LoadOrder();
    b.order.insert(n);
    this.leafOf.set(n, b);
  }

  private sortChildren(b: SpreadBranch): void {
    if (!b.children) return;
    b.children.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
    for (const c of b.children) this.sortChildren(c);
  }

  /** Must wrap every change of a node's task count, so leaves stay in load order. */
  reorder(n: NodeInfo, oldTotal: number): void {
    const leaf = this.leafOf.get(n);
    if (!leaf?.order) return;
    leaf.order.remove(n, oldTotal);
    leaf.order.insert(n);
  }

  /** Tasks of a service per branch, from the nodes that run it. */
  counts(serviceNodes: Iterable<NodeInfo>, serviceId: string): Map<SpreadBranch, number> {
    const out = new Map<SpreadBranch, number>();
    for (const n of serviceNodes) {
      const c = n.serviceCount(serviceId);
      for (let b: SpreadBranch | undefined = this.leafOf.get(n); b; b = b.parent)
        out.set(b, (out.get(b) ?? 0) + c);
    }
    return out;
  }
}

/**
 * Places up to `n` tasks under `branch`, evening out its children: each round gives every usable child enough to
 * reach an equal share (the remainder to the least loaded), and drops children that could not take their share.
 * `placeOnLeaf` places on a leaf and returns how many it placed; `tasks` holds the service's count per branch.
 */
export function placeOnTree(
  branch: SpreadBranch,
  n: number,
  tasks: Map<SpreadBranch, number>,
  placeOnLeaf: (leaf: SpreadBranch, n: number) => number,
): number {
  const countOf = (b: SpreadBranch) => tasks.get(b) ?? 0;
  let placed = 0;
  if (!branch.children) {
    placed = placeOnLeaf(branch, n);
  } else {
    const full = new Set<SpreadBranch>();
    while (placed < n) {
      const usable = branch.children.filter((c) => !full.has(c));
      if (usable.length === 0) break;
      const total = usable.reduce((s, c) => s + countOf(c), 0) + (n - placed);
      const share = Math.floor(total / usable.length);
      let extra = total % usable.length;
      usable.sort((a, b) => countOf(a) - countOf(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      let progressed = false;
      for (const c of usable) {
        const target = share + (extra > 0 ? 1 : 0);
        if (extra > 0) extra--;
        const want = Math.min(Math.max(0, target - countOf(c)), n - placed);
        if (want === 0) continue;
        const got = placeOnTree(c, want, tasks, placeOnLeaf);
        placed += got;
        if (got > 0) progressed = true;
        if (got < want) full.add(c);
      }
      if (!progressed) break;
    }
  }
  // Every branch records its own placements; its children recorded theirs in the recursion.
  tasks.set(branch, countOf(branch) + placed);
  return placed;
}
