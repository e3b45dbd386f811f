// Splits large work (e.g. creating 10,000 tasks) into transactions that respect the per-transaction caps.
import { MAX_ACTIONS_PER_TX, type StoreEvent } from './actions.js';
import type { MemoryStore } from './memory-store.js';
import type { WriteTx } from './tx.js';

export type BatchUnit = (tx: WriteTx) => void;

/**
 * Runs the units in order, grouping consecutive units into one transaction as long as it stays within
 * `maxActions`; one unit's changes are never split across transactions. Resolves with all events in order.
 */
export async function batchUpdate(
  store: MemoryStore,
  units: BatchUnit[],
  maxActions = MAX_ACTIONS_PER_TX,
): Promise<StoreEvent[]> {
  const started = process.hrtime.bigint();
  try {
    return await proposeInGroups(store, units, maxActions);
  } finally {
    store.observer?.batch?.(Number(process.hrtime.bigint() - started) / 1e9);
  }
}

async function proposeInGroups(
  store: MemoryStore,
  units: BatchUnit[],
  maxActions: number,
): Promise<StoreEvent[]> {
  const events: StoreEvent[] = [];
  let group: BatchUnit[] = [];
  let tx = store.newWriteTx();
  for (const unit of units) {
    unit(tx);
    if (tx.actions.length <= maxActions || group.length === 0) {
      group.push(unit);
      continue;
    }
    // The last unit overflowed: commit the group without it (rebuilt, since its writes are staged in tx).
    const fit = store.newWriteTx();
    for (const u of group) u(fit);
    events.push(...(await store.propose(fit)));
    group = [unit];
    tx = store.newWriteTx();
    unit(tx);
  }
  if (tx.actions.length > 0) events.push(...(await store.propose(tx)));
  return events;
}
