// The in-memory Raft log after the last snapshot: stable (persisted) and unstable entries, commit and apply marks.
import type { Entry, SnapshotMeta } from '../types.js';

export function entrySize(e: Entry): number {
  return e.data.length + 24;
}

export class RaftLog {
  /** Index and term of the last entry covered by the snapshot (the log starts after it). */
  snapIndex: number;
  snapTerm: number;
  /** entries[i] has index snapIndex + 1 + i. */
  entries: Entry[];
  committed: number;
  applied: number;
  /** Entries up to here are persisted; those after are handed out in Ready.entries. */
  stable: number;

  constructor(snap: { index: number; term: number }, entries: Entry[], committed: number) {
    this.snapIndex = snap.index;
    this.snapTerm = snap.term;
    this.entries = entries;
    this.committed = Math.max(committed, snap.index);
    this.applied = snap.index;
    this.stable = this.lastIndex();
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex())!;
  }

  /** Term of entry `i`, or undefined when it is compacted away or beyond the end. */
  term(i: number): number | undefined {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.snapIndex || i > this.lastIndex()) return undefined;
    return this.entries[i - this.snapIndex - 1]!.term;
  }

  matchTerm(i: number, term: number): boolean {
    return this.term(i) === term;
  }

  /** True when a candidate whose log ends at (term, index) is at least as up to date as this log. */
  isUpToDate(index: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && index >= this.lastIndex());
  }

  /** Entries [lo, hi) limited to `maxBytes` (at least one entry). */
  slice(lo: number, hi: number, maxBytes = Infinity): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    for (let i = lo; i < hi && i <= this.lastIndex(); i++) {
      const e = this.entries[i - this.snapIndex - 1]!;
      bytes += entrySize(e);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  /** Appends after truncating any conflicting suffix from ents[0].index on. */
  append(ents: Entry[]): void {
    if (ents.length === 0) return;
    const first = ents[0]!.index;
    if (first <= this.committed)
      throw new Error(`raft: append at ${first} would overwrite committed entry ${this.committed}`);
    this.entries.length = first - this.snapIndex - 1;
    this.entries.push(...ents);
    this.stable = Math.min(this.stable, first - 1);
  }

  /**
   * Follower side of AppendEntries: when the entry at prevIndex has prevTerm, appends what is new (truncating a
   * conflicting suffix) and advances commit. Returns the index of the last new entry, or undefined on mismatch.
   */
  maybeAppend(prevIndex: number, prevTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + ents.length;
    let conflict = 0;
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        conflict = e.index;
        break;
      }
    }
    if (conflict > 0) {
      if (conflict <= this.committed)
        throw new Error(`raft: entry ${conflict} conflicts with committed entry ${this.committed}`);
      this.append(ents.slice(conflict - prevIndex - 1));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  /** Largest index <= `index` whose term is <= `term` (fast backtracking of rejected appends). */
  findConflictByTerm(index: number, term: number): number {
    let i = Math.min(index, this.lastIndex());
    while (i > this.snapIndex) {
      const t = this.term(i)!;
      if (t <= term) return i;
      i--;
    }
    return this.snapIndex;
  }

  commitTo(i: number): void {
    if (i > this.committed) this.committed = Math.min(i, this.lastIndex());
  }

  unstable(): Entry[] {
    return this.entries.slice(this.stable - this.snapIndex);
  }

  stableTo(i: number): void {
    if (i > this.stable) this.stable = Math.min(i, this.lastIndex());
  }

  /** Replaces the log with a snapshot's position (install on a follower). */
  restore(meta: SnapshotMeta): void {
    this.snapIndex = meta.index;
    this.snapTerm = meta.term;
    this.entries = [];
    this.committed = meta.index;
    this.applied = meta.index;
    this.stable = meta.index;
  }

  /** Drops entries up to `index` (covered by a state machine snapshot). */
  compact(index: number, term: number): void {
    if (index <= this.snapIndex) return;
    if (index > this.applied)
      throw new Error(`raft: cannot compact to ${index} beyond applied ${this.applied}`);
    this.entries = this.entries.slice(index - this.snapIndex);
    this.snapIndex = index;
    this.snapTerm = term;
  }
}
