// The store as Raft's state machine: committed entries are store transactions, snapshots are store snapshots.
import type { Entry, StateMachine } from '../raft/index.js';
import type { MemoryStore } from './store/index.js';

export class StoreStateMachine implements StateMachine {
  constructor(private readonly store: () => MemoryStore) {}

  apply(entries: Entry[]): void {
    const store = this.store();
    for (const e of entries) store.applyCommitted(e.index, e.data);
  }

  snapshot(): Uint8Array {
    return this.store().snapshot();
  }

  restore(data: Uint8Array): void {
    this.store().restore(data);
  }
}
