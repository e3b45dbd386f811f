// A store transaction as it travels through Raft: an ordered list of actions, applied atomically on commit.
import type { Kind, StoredObject } from './kinds.js';

export type Action =
  | { op: 'create'; kind: Kind; obj: StoredObject }
  /** `expect` is the Version.Index the writer read: a stale one makes the whole transaction fail. */
  | { op: 'update'; kind: Kind; obj: StoredObject; expect: number }
  | { op: 'delete'; kind: Kind; id: string };

export interface Transaction {
  /** Identifies the proposer's pending call, so only it learns this transaction's outcome. */
  txid: string;
  /** Wall-clock time chosen by the proposer: every replica stamps CreatedAt/UpdatedAt with the same value. */
  time: string;
  actions: Action[];
}

export type StoreEventOp = 'create' | 'update' | 'delete';

export interface StoreEvent {
  op: StoreEventOp;
  kind: Kind;
  /** The object after the change (for deletes: as it was). */
  obj: StoredObject;
  old?: StoredObject;
  index: number;
}

// swarmkit's caps per transaction (MaxChangesPerTransaction, MaxTransactionBytes).
export const MAX_ACTIONS_PER_TX = 200;
export const MAX_TX_BYTES = 1.5 * 1024 * 1024;
