// A linearizability checker for key-value histories: Wing & Gong's search with Lowe's memoisation of
// (linearized set, state) pairs, one key at a time (a KV store's keys are independent objects).

import { InvalidArgument } from '../../api/index.js';

export interface KvOp {
  clientId: number | string;
  kind: 'put' | 'get';
  key: string;
  /** put: the value written. */
  value?: string;
  /** get: the value read (undefined = key absent). */
  output?: string;
  call: number;
  /** Infinity for an operation whose outcome the client never learned. */
  return: number;
}

export interface CheckResult {
  ok: boolean;
  key?: string;
  detail?: string;
}

interface Node {
  op: number;
  isCall: boolean;
  time: number;
  match?: Node;
  prev?: Node;
  next?: Node;
}

/** A set of operation indexes as a bitset with an incrementally kept 64-bit hash (two 32-bit halves). */
class LinearizedSet {
  readonly bits: Uint32Array;
  h1 = 0;
  h2 = 0;

  constructor(size: number) {
    this.bits = new Uint32Array(Math.ceil(size / 32));
  }

  /** Adds or removes `i`: XOR keeps the hash independent of the order operations were added in. */
  flip(i: number): void {
    this.bits[i >>> 5]! ^= 1 << (i & 31);
    this.h1 = (this.h1 ^ mix(i * 2 + 1)) >>> 0;
    this.h2 = (this.h2 ^ mix(i * 2 + 2)) >>> 0;
  }
}

function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Visited (linearized set, state) pairs; hashes pick the bucket, bitsets are compared exactly. */
class Memo {
  private buckets = new Map<string, Uint32Array[]>();

  addIfNew(set: LinearizedSet, state: string | undefined): boolean {
    const key = `${set.h1}:${set.h2}|${state === undefined ? '\u0000' : `=${state}`}`;
    const bucket = this.buckets.get(key);
    if (bucket?.some((b) => b.every((w, i) => w === set.bits[i]))) return false;
    if (bucket) bucket.push(set.bits.slice());
    else this.buckets.set(key, [set.bits.slice()]);
    return true;
  }
}

function checkKey(ops: KvOp[]): boolean {
  // Reads whose answer never came back constrain nothing. Neither do writes whose outcome is unknown and whose
  // value nobody read: a pending operation may be left out of a linearization, and leaving out an unread put
  // changes no read (every read after it saw a later put). Each such put would otherwise double the search.
  const read = new Set(ops.filter((o) => o.kind === 'get').map((o) => o.output));
  ops = ops.filter((o) => o.return !== Infinity || (o.kind === 'put' && read.has(o.value)));
  if (ops.length === 0) return true;
  const events: Node[] = [];
  ops.forEach((o, i) => {
    const call: Node = { op: i, isCall: true, time: o.call };
    const ret: Node = { op: i, isCall: false, time: o.return };
    call.match = ret;
    events.push(call, ret);
  });
  // Calls before returns at equal times: such operations are concurrent, not ordered.
  events.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1));
  const head: Node = { op: -1, isCall: false, time: -Infinity };
  let prev = head;
  for (const e of events) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }
  const lift = (call: Node): void => {
    call.prev!.next = call.next;
    if (call.next) call.next.prev = call.prev;
    const ret = call.match!;
    ret.prev!.next = ret.next;
    if (ret.next) ret.next.prev = ret.prev;
  };
  const unlift = (call: Node): void => {
    const ret = call.match!;
    ret.prev!.next = ret;
    if (ret.next) ret.next.prev = ret;
    call.prev!.next = call;
    if (call.next) call.next.prev = call;
  };
  const linearized = new LinearizedSet(ops.length);
  const seen = new Memo();
  const stack: { call: Node; state: string | undefined }[] = [];
  let state: string | undefined = undefined;
  let entry = head.next;
  while (head.next) {
    if (!entry) return false;
    if (entry.isCall) {
      const o = ops[entry.op]!;
      const ok = o.kind === 'put' || o.output === state;
      const next: string | undefined = o.kind === 'put' ? o.value : state;
      if (ok) {
        linearized.flip(entry.op);
        if (seen.addIfNew(linearized, next)) {
          stack.push({ call: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        linearized.flip(entry.op);
      }
      entry = entry.next;
    } else {
      // A return whose call could not be linearized before it: undo the last choice.
      const top = stack.pop();
      if (!top) return false;
      state = top.state;
      linearized.flip(top.call.op);
      unlift(top.call);
      entry = top.call.next;
    }
  }
  return true;
}

/** Rejects histories the checker cannot judge (a recording bug, not a linearizability violation). */
function validate(ops: KvOp[]): void {
  if (!Array.isArray(ops)) throw new InvalidArgument('history must be an array of operations');
  ops.forEach((o, i) => {
    const what = `history operation ${i}`;
    if (!o || typeof o !== 'object') throw new InvalidArgument(`${what} is not an object`);
    if (o.kind !== 'put' && o.kind !== 'get')
      throw new InvalidArgument(`${what}: kind must be "put" or "get", got ${JSON.stringify(o.kind)}`);
    if (typeof o.key !== 'string') throw new InvalidArgument(`${what}: key must be a string`);
    if (o.kind === 'put' && typeof o.value !== 'string')
      throw new InvalidArgument(`${what}: a put needs a string value`);
    if (o.kind === 'get' && o.output !== undefined && typeof o.output !== 'string')
      throw new InvalidArgument(`${what}: a get's output must be a string or undefined (absent)`);
    if (typeof o.call !== 'number' || !Number.isFinite(o.call))
      throw new InvalidArgument(`${what}: call must be a finite time`);
    if (typeof o.return !== 'number' || Number.isNaN(o.return) || o.return < o.call)
      throw new InvalidArgument(
        `${what}: return (${o.return}) must be a time >= call (${o.call}) or Infinity`,
      );
  });
}

/** Is the history linearizable for a key-value store whose keys start absent? Throws InvalidArgument on bad input. */
export function checkKvHistory(ops: KvOp[]): CheckResult {
  validate(ops);
  const byKey = new Map<string, KvOp[]>();
  for (const o of ops) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  for (const [key, list] of byKey) {
    if (!checkKey(list))
      return {
        ok: false,
        key,
        detail: `no linearization exists for the ${list.length} operations on key "${key}"`,
      };
  }
  return { ok: true };
}
