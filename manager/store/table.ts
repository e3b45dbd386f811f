// One kind's objects with their secondary indexes. Objects inside are never handed out: readers get copies.
import type { Kind, KindMap } from './kinds.js';
import { INDEXES } from './kinds.js';

function keysOf(v: string | string[] | undefined): string[] {
  if (v === undefined || v === '') return [];
  return Array.isArray(v) ? v : [v];
}

export class Table<K extends Kind> {
  readonly byId = new Map<string, KindMap[K]>();
  private readonly indexes = new Map<string, Map<string, Set<string>>>();

  constructor(readonly kind: K) {
    for (const name of Object.keys(INDEXES[kind])) this.indexes.set(name, new Map());
  }

  get(id: string): KindMap[K] | undefined {
    return this.byId.get(id);
  }

  /** IDs of objects whose index `name` has key `key`. */
  find(name: string, key: string): string[] {
    const idx = this.indexes.get(name);
    if (!idx) throw new Error(`no index ${name} on ${this.kind}`);
    return [...(idx.get(key) ?? [])];
  }

  put(obj: KindMap[K]): void {
    const old = this.byId.get(obj.ID);
    if (old) this.unindex(old);
    this.byId.set(obj.ID, obj);
    this.index(obj);
  }

  delete(id: string): KindMap[K] | undefined {
    const old = this.byId.get(id);
    if (!old) return undefined;
    this.unindex(old);
    this.byId.delete(id);
    return old;
  }

  clear(): void {
    this.byId.clear();
    for (const idx of this.indexes.values()) idx.clear();
  }

  private index(obj: KindMap[K]): void {
    const fns = INDEXES[this.kind] as Record<string, (o: KindMap[K]) => string | string[] | undefined>;
    for (const [name, fn] of Object.entries(fns)) {
      const idx = this.indexes.get(name)!;
      for (const key of keysOf(fn(obj))) {
        let set = idx.get(key);
        if (!set) idx.set(key, (set = new Set()));
        set.add(obj.ID);
      }
    }
  }

  private unindex(obj: KindMap[K]): void {
    const fns = INDEXES[this.kind] as Record<string, (o: KindMap[K]) => string | string[] | undefined>;
    for (const [name, fn] of Object.entries(fns)) {
      const idx = this.indexes.get(name)!;
      for (const key of keysOf(fn(obj))) {
        const set = idx.get(key);
        set?.delete(obj.ID);
        if (set?.size === 0) idx.delete(key);
      }
    }
  }
}
