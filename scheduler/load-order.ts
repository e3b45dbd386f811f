// Nodes ordered by load (total tasks, then rank), kept current as tasks come and go, so a group of tasks can
// take the least loaded nodes without scanning the whole cluster.
import type { NodeInfo } from './node-info.js';

function byRank(list: NodeInfo[], rank: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid]!.rank < rank) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class LoadOrder {
  /** totalTasks → nodes with that many tasks, sorted by rank. */
  private readonly buckets = new Map<number, NodeInfo[]>();
  private keys: number[] = [];

  insert(n: NodeInfo): void {
    let b = this.buckets.get(n.totalTasks);
    if (!b) {
      this.buckets.set(n.totalTasks, (b = []));
      this.keys.push(n.totalTasks);
      this.keys.sort((x, y) => x - y);
    }
    b.splice(byRank(b, n.rank), 0, n);
  }

  /** Removes `n`, which is filed under `total` (its task count before the change being recorded). */
  remove(n: NodeInfo, total = n.totalTasks): void {
    const b = this.buckets.get(total);
    if (!b) return;
    // Ranks come from the injected RNG and may repeat: look past equal ranks for this very node.
    let i = byRank(b, n.rank);
    while (i < b.length && b[i] !== n && b[i]!.rank === n.rank) i++;
    if (b[i] === n) b.splice(i, 1);
    if (b.length === 0) {
      this.buckets.delete(total);
      this.keys = this.keys.filter((k) => k !== total);
    }
  }

  /**
   * Visits nodes from least to most loaded (ties in rank order) until `visit` returns false. A callback rather
   * than a generator: this loop is the scheduler's hot path. The order must not change while visiting.
   */
  visitAscending(visit: (n: NodeInfo) => boolean): void {
    for (const k of this.keys) {
      const b = this.buckets.get(k)!;
      for (let i = 0; i < b.length; i++) if (!visit(b[i]!)) return;
    }
  }
}
