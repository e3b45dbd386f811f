// Pure application of a committed transaction to the tables: all actions or none, deterministic on every replica.
import { copyData } from './copy.js';
import { Conflict, NotFound } from '../../api/index.js';
import type { Action, StoreEvent, Transaction } from './actions.js';
import { KINDS, UNIQUE_NAME, type Kind, type StoredObject } from './kinds.js';
import { Table } from './table.js';

export type Tables = { [K in Kind]: Table<K> };

export function newTables(): Tables {
  return Object.fromEntries(KINDS.map((k) => [k, new Table(k)])) as Tables;
}

export function nameOf(obj: StoredObject): string | undefined {
  const spec = obj.Spec as { Name?: string };
  return spec?.Name;
}

/** Checks one action against the current tables; throws the error the writer sees. */
export function checkAction(tables: Tables, a: Action, writtenInTx: ReadonlySet<string> = new Set()): void {
  const table = tables[a.kind] as Table<Kind>;
  if (a.op === 'delete') {
    if (!table.get(a.id)) throw new NotFound(`${a.kind} ${a.id} not found`);
    return;
  }
  const current = table.get(a.obj.ID);
  if (a.op === 'create' && current) throw new Conflict(`${a.kind} ${a.obj.ID} already exists`);
  if (a.op === 'update') {
    if (!current) throw new NotFound(`${a.kind} ${a.obj.ID} not found`);
    // A second write to an object in the same transaction was checked against the first one already.
    if (!writtenInTx.has(`${a.kind}/${a.obj.ID}`) && current.Version.Index !== a.expect) {
      throw new Conflict('update out of sequence');
    }
  }
  const unique = UNIQUE_NAME[a.kind];
  const name = nameOf(a.obj);
  if (unique && name) {
    const holders = table.find('name', name).filter((id) => id !== a.obj.ID);
    if (holders.length > 0) throw new Conflict(unique(name));
  }
}

/**
 * Applies `tx` at Raft index `index`. Every object written gets Version.Index = index. On any failing
 * action the tables are restored to their previous content and the error is thrown.
 */
export function applyTransaction(tables: Tables, index: number, tx: Transaction): StoreEvent[] {
  const undo: (() => void)[] = [];
  const events: StoreEvent[] = [];
  const written = new Set<string>();
  try {
    for (const a of tx.actions) {
      checkAction(tables, a, written);
      written.add(`${a.kind}/${a.op === 'delete' ? a.id : a.obj.ID}`);
      const table = tables[a.kind] as Table<Kind>;
      if (a.op === 'delete') {
        const old = table.delete(a.id)!;
        undo.push(() => table.put(old));
        events.push({ op: 'delete', kind: a.kind, obj: old, index });
        continue;
      }
      const old = table.get(a.obj.ID);
      const obj = copyData(a.obj);
      obj.Version = { Index: index };
      obj.UpdatedAt = tx.time;
      obj.CreatedAt = a.op === 'create' ? tx.time : old!.CreatedAt;
      table.put(obj);
      undo.push(() => (old ? table.put(old) : table.delete(obj.ID)));
      events.push({ op: a.op, kind: a.kind, obj, old, index });
    }
  } catch (err) {
    for (const u of undo.reverse()) u();
    throw err;
  }
  return events;
}
