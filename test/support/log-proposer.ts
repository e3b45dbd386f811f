// Stands in for Raft in unit tests of the store's users: commits every proposal in order to all replicas.
import { MemoryStore, type Proposer } from '../../manager/store/index.js';

export class LogProposer implements Proposer {
  readonly log: Uint8Array[] = [];
  readonly replicas: MemoryStore[] = [];

  async propose(data: Uint8Array): Promise<{ index: number }> {
    this.log.push(data);
    const index = this.log.length;
    for (const r of this.replicas) r.applyCommitted(index, data);
    return { index };
  }
}

/** `n` store replicas fed by one log. */
export function storeCluster(
  n = 1,
  now?: () => Date,
): { proposer: LogProposer; stores: MemoryStore[]; store: MemoryStore } {
  const proposer = new LogProposer();
  const stores = Array.from({ length: n }, () => new MemoryStore({ proposer, now }));
  proposer.replicas.push(...stores);
  return { proposer, stores, store: stores[0]! };
}
