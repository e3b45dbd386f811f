// manager/store: replicated in-memory state — tables, indexes, transactions through Raft, watches, snapshots.
export {
  MemoryStore,
  type Proposer,
  type StoreListener,
  type StoreObserver,
  type StoreOptions,
} from './memory-store.js';
export { batchUpdate, type BatchUnit } from './batch.js';
export { type ReadTx, WriteTx } from './tx.js';
export { type Kind, type KindMap, type StoredObject, KINDS } from './kinds.js';
export {
  type StoreEvent,
  type Action,
  type Transaction,
  MAX_ACTIONS_PER_TX,
  MAX_TX_BYTES,
} from './actions.js';
