// A write transaction being built: reads see committed state plus this transaction's own writes.
import { copyData } from './copy.js';
import { Conflict, NotFound } from '../../api/index.js';
import type { Action } from './actions.js';
import { checkAction, nameOf, type Tables } from './apply.js';
import { INDEXES, UNIQUE_NAME, type Kind, type KindMap } from './kinds.js';

/** Read access shared by views and transactions. Returned objects are copies: change them freely. */
export interface ReadTx {
  get<K extends Kind>(kind: K, id: string): KindMap[K] | undefined;
  all<K extends Kind>(kind: K): KindMap[K][];
  /** Objects of `kind` whose index `index` has `key` (indexes: kinds.ts). */
  find<K extends Kind>(kind: K, index: string, key: string): KindMap[K][];
  /**
   * How many objects of `kind` under index `index` = `key` pass `test`, which reads them in place: counting the
   * tasks of a service (`docker service ls` asks every poll) then copies none of them.
   */
  count<K extends Kind>(
    kind: K,
    index: string,
    key: string,
    test: (o: Readonly<KindMap[K]>) => boolean,
  ): number;
}

export class ReadView implements ReadTx {
  constructor(
    protected readonly tables: Tables,
    /** Observes each get/find duration in seconds (metrics). */
    private readonly onLookup?: (seconds: number) => void,
  ) {}

  get<K extends Kind>(kind: K, id: string): KindMap[K] | undefined {
    const started = this.onLookup && process.hrtime.bigint();
    const o = this.tables[kind].get(id);
    const copy = o && copyData(o);
    if (started) this.onLookup!(Number(process.hrtime.bigint() - started) / 1e9);
    return copy;
  }

  all<K extends Kind>(kind: K): KindMap[K][] {
    return [...this.tables[kind].byId.values()].map((o) => copyData(o) as KindMap[K]);
  }

  find<K extends Kind>(kind: K, index: string, key: string): KindMap[K][] {
    const started = this.onLookup && process.hrtime.bigint();
    const found = this.tables[kind]
      .find(index, key)
      .map((id) => copyData(this.tables[kind].get(id)!) as KindMap[K]);
    if (started) this.onLookup!(Number(process.hrtime.bigint() - started) / 1e9);
    return found;
  }

  count<K extends Kind>(
    kind: K,
    index: string,
    key: string,
    test: (o: Readonly<KindMap[K]>) => boolean,
  ): number {
    const table = this.tables[kind];
    let n = 0;
    for (const id of table.find(index, key)) if (test(table.get(id)! as KindMap[K])) n++;
    return n;
  }
}

const keyOf = (kind: Kind, id: string): string => `${kind}/${id}`;

export class WriteTx extends ReadView {
  readonly actions: Action[] = [];
  /** Staged objects (null = deleted) by kind/id. */
  private readonly staged = new Map<string, KindMap[Kind] | null>();

  override get<K extends Kind>(kind: K, id: string): KindMap[K] | undefined {
    const s = this.staged.get(keyOf(kind, id));
    if (s === null) return undefined;
    if (s) return copyData(s) as KindMap[K];
    return super.get(kind, id);
  }

  override all<K extends Kind>(kind: K): KindMap[K][] {
    const out = new Map<string, KindMap[K]>();
    for (const o of super.all(kind)) out.set(o.ID, o);
    this.overlay(kind, out, () => true);
    return [...out.values()];
  }

  override find<K extends Kind>(kind: K, index: string, key: string): KindMap[K][] {
    const fn = (INDEXES[kind] as Record<string, (o: KindMap[K]) => string | string[] | undefined>)[index];
    if (!fn) throw new Error(`no index ${index} on ${kind}`);
    const matches = (o: KindMap[K]): boolean => {
      const v = fn(o);
      return Array.isArray(v) ? v.includes(key) : v === key;
    };
    const out = new Map<string, KindMap[K]>();
    for (const o of super.find(kind, index, key)) out.set(o.ID, o);
    this.overlay(kind, out, matches);
    return [...out.values()];
  }

  override count<K extends Kind>(
    kind: K,
    index: string,
    key: string,
    test: (o: Readonly<KindMap[K]>) => boolean,
  ): number {
    return this.find(kind, index, key).filter(test).length;
  }

  private overlay<K extends Kind>(
    kind: K,
    out: Map<string, KindMap[K]>,
    matches: (o: KindMap[K]) => boolean,
  ): void {
    const prefix = `${kind}/`;
    for (const [k, s] of this.staged) {
      if (!k.startsWith(prefix)) continue;
      const id = k.slice(prefix.length);
      if (s === null || !matches(s as KindMap[K])) out.delete(id);
      else out.set(id, copyData(s) as KindMap[K]);
    }
  }

  create<K extends Kind>(kind: K, obj: KindMap[K]): void {
    if (this.get(kind, obj.ID)) throw new Conflict(`${kind} ${obj.ID} already exists`);
    this.checkName(kind, obj);
    if (!this.staged.has(keyOf(kind, obj.ID))) checkAction(this.tables, { op: 'create', kind, obj });
    this.actions.push({ op: 'create', kind, obj: copyData(obj) });
    this.staged.set(keyOf(kind, obj.ID), copyData(obj));
  }

  /** Writes `obj`, which must carry the Version it was read at. */
  update<K extends Kind>(kind: K, obj: KindMap[K]): void {
    const current = this.get(kind, obj.ID);
    if (!current) throw new NotFound(`${kind} ${obj.ID} not found`);
    if (current.Version.Index !== obj.Version.Index) throw new Conflict('update out of sequence');
    this.checkName(kind, obj);
    // Against committed state the expected version is what was committed, even after a staged write.
    const committed = this.tables[kind].get(obj.ID);
    this.actions.push({
      op: 'update',
      kind,
      obj: copyData(obj),
      expect: committed ? committed.Version.Index : 0,
    });
    this.staged.set(keyOf(kind, obj.ID), copyData(obj));
  }

  delete(kind: Kind, id: string): void {
    if (!this.get(kind, id)) throw new NotFound(`${kind} ${id} not found`);
    this.actions.push({ op: 'delete', kind, id });
    this.staged.set(keyOf(kind, id), null);
  }

  private checkName<K extends Kind>(kind: K, obj: KindMap[K]): void {
    const unique = UNIQUE_NAME[kind];
    const name = nameOf(obj);
    if (!unique || !name) return;
    if (this.find(kind, 'name', name).some((o) => o.ID !== obj.ID)) throw new Conflict(unique(name));
  }
}
