// The replicated in-memory store: transactions become Raft proposals and are applied on commit, in log order.
import {
  Conflict,
  InvalidArgument,
  encode,
  decode,
  pooledRandomBytes,
  Unavailable,
} from '../../api/index.js';
import { MAX_ACTIONS_PER_TX, MAX_TX_BYTES, type StoreEvent, type Transaction } from './actions.js';
import { applyTransaction, newTables, type Tables } from './apply.js';
import { KINDS, type Kind, type KindMap, type StoredObject } from './kinds.js';
import { ReadView, WriteTx, type ReadTx } from './tx.js';

/** Replication of transactions (the Raft node in a cluster). Resolves once the entry is committed and applied locally. */
export interface Proposer {
  propose(data: Uint8Array): Promise<{ index: number }>;
}

export type StoreListener = (events: StoreEvent[]) => void;

export interface StoreOptions {
  proposer: Proposer;
  now?: () => Date;
  /** Observation hooks for metrics. */
  observer?: StoreObserver;
}

/** Durations (seconds) the store reports to metrics; every hook is optional and must not throw. */
export interface StoreObserver {
  /** A `view` (read transaction), callback included. */
  readTx?(seconds: number): void;
  /** A write transaction, from its proposal until it is applied on this replica. */
  writeTx?(seconds: number): void;
  /** One `get` or `find` inside a view or transaction (copying the result included). */
  lookup?(seconds: number): void;
  /** One `batchUpdate` run, all its transactions included. */
  batch?(seconds: number): void;
}

interface Pending {
  resolve: (events: StoreEvent[]) => void;
  reject: (err: unknown) => void;
}

/** Times `update` rebuilds a transaction that lost a race at commit time before giving up. */
const MAX_UPDATE_ATTEMPTS = 5;

export class MemoryStore {
  private tables: Tables = newTables();
  private listeners = new Set<StoreListener>();
  private pending = new Map<string, Pending>();
  private outcome = new Map<string, { events?: StoreEvent[]; error?: unknown }>();
  private appliedIndex = 0;
  private appliedWaiters: { index: number; resolve: () => void }[] = [];

  constructor(private readonly opts: StoreOptions) {}

  get lastApplied(): number {
    return this.appliedIndex;
  }

  /** Resolves once this replica has applied `index` (read-your-writes after a write forwarded to the leader). */
  waitApplied(index: number, timeoutMs: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.appliedWaiters = this.appliedWaiters.filter((w) => w !== waiter);
        reject(new Unavailable(`entry ${index} was committed but not applied here within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        index,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.appliedWaiters.push(waiter);
    });
  }

  /** Runs `fn` against a consistent view of the committed state. */
  view<T>(fn: (tx: ReadTx) => T): T {
    const readTx = this.opts.observer?.readTx;
    if (!readTx) return fn(new ReadView(this.tables, this.opts.observer?.lookup));
    const started = process.hrtime.bigint();
    try {
      return fn(new ReadView(this.tables, this.opts.observer?.lookup));
    } finally {
      readTx(secondsSince(started));
    }
  }

  /**
   * Calls `fn` with each committed object of `kind` without copying it (cheap counting, e.g. for metrics).
   * The objects must not be changed or kept.
   */
  scan<K extends Kind>(kind: K, fn: (o: Readonly<KindMap[K]>) => void): void {
    for (const o of this.tables[kind].byId.values()) fn(o as KindMap[K]);
  }

  /** The metrics hooks this store was made with (the batch helper reports through them). */
  get observer(): StoreObserver | undefined {
    return this.opts.observer;
  }

  /**
   * Runs `fn` to build a transaction, proposes it and resolves with its events once committed and applied.
   * Stale versions and name conflicts fail early; a race lost at commit time fails with the same errors.
   */
  async update(fn: (tx: WriteTx) => void): Promise<StoreEvent[]> {
    for (let attempt = 1; ; attempt++) {
      const tx = this.newWriteTx();
      fn(tx);
      if (tx.actions.length === 0) return [];
      try {
        return await this.propose(tx);
      } catch (err) {
        // Another transaction changed an object between building this one and its commit. `fn` reads the state
        // afresh, so running it again is safe: a caller's own version check inside `fn` still fails as it should.
        if (!(err instanceof Conflict) || attempt >= MAX_UPDATE_ATTEMPTS) throw err;
      }
    }
  }

  newWriteTx(): WriteTx {
    return new WriteTx(this.tables, this.opts.observer?.lookup);
  }

  /** Proposes a prepared transaction (used by `update` and the batch helper). */
  async propose(tx: WriteTx): Promise<StoreEvent[]> {
    if (tx.actions.length > MAX_ACTIONS_PER_TX) {
      throw new InvalidArgument(
        `transaction has ${tx.actions.length} changes (maximum ${MAX_ACTIONS_PER_TX})`,
      );
    }
    const now = this.opts.now?.() ?? new Date();
    const txn: Transaction = {
      txid: pooledRandomBytes(8).toString('hex'),
      time: now.toISOString(),
      actions: tx.actions,
    };
    const data = encode(txn);
    if (data.length > MAX_TX_BYTES)
      throw new InvalidArgument(`transaction is ${data.length} bytes (maximum ${MAX_TX_BYTES})`);
    const started = process.hrtime.bigint();
    const done = new Promise<StoreEvent[]>((resolve, reject) =>
      this.pending.set(txn.txid, { resolve, reject }),
    );
    try {
      await this.opts.proposer.propose(data);
    } catch (err) {
      this.pending.delete(txn.txid);
      throw err;
    }
    // The proposer resolves after local apply, so the outcome is known by now.
    const out = this.outcome.get(txn.txid);
    this.pending.delete(txn.txid);
    this.outcome.delete(txn.txid);
    this.opts.observer?.writeTx?.(secondsSince(started));
    if (!out) {
      void done.catch(() => undefined);
      throw new Unavailable('transaction was committed but not applied locally');
    }
    if (out.error) throw out.error;
    return out.events!;
  }

  /** Applies a committed Raft entry; called on every manager in log order. Never throws for a bad transaction. */
  applyCommitted(index: number, data: Uint8Array): void {
    if (index <= this.appliedIndex) return;
    this.appliedIndex = index;
    try {
      this.applyEntry(index, data);
    } finally {
      this.releaseWaiters();
    }
  }

  private releaseWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    const ready = this.appliedWaiters.filter((w) => w.index <= this.appliedIndex);
    if (ready.length === 0) return;
    this.appliedWaiters = this.appliedWaiters.filter((w) => w.index > this.appliedIndex);
    for (const w of ready) w.resolve();
  }

  private applyEntry(index: number, data: Uint8Array): void {
    if (data.length === 0) return; // leader no-op entries
    const txn = decode<Transaction>(data);
    let events: StoreEvent[];
    try {
      events = applyTransaction(this.tables, index, txn);
    } catch (error) {
      if (this.pending.has(txn.txid)) this.outcome.set(txn.txid, { error });
      return;
    }
    if (this.pending.has(txn.txid)) this.outcome.set(txn.txid, { events });
    for (const l of this.listeners) l(events);
  }

  /** Current watch subscribers (a leak check for long-lived consumers). */
  get watchCount(): number {
    return this.listeners.size;
  }

  /** Subscribes to committed changes; returns the unsubscribe function. Events' objects are read-only. */
  watch(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): Uint8Array {
    const objects: Record<string, StoredObject[]> = {};
    for (const k of KINDS) objects[k] = [...this.tables[k].byId.values()];
    return encode({ appliedIndex: this.appliedIndex, objects });
  }

  restore(data: Uint8Array): void {
    const snap = decode<{ appliedIndex: number; objects: Record<Kind, StoredObject[]> }>(data);
    const tables = newTables();
    for (const k of KINDS)
      for (const o of snap.objects[k] ?? []) (tables[k] as { put(o: StoredObject): void }).put(o);
    this.tables = tables;
    this.appliedIndex = snap.appliedIndex;
    this.releaseWaiters();
  }
}

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
