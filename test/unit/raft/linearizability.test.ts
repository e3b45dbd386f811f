import test from 'ava';
import fc from 'fast-check';
import { InvalidArgument } from '../../../api/index.js';
import { checkKvHistory, type KvOp } from '../../support/linearizability.js';

const put = (clientId: number, key: string, value: string, call: number, ret: number): KvOp => ({
  clientId,
  kind: 'put',
  key,
  value,
  call,
  return: ret,
});
const get = (clientId: number, key: string, output: string | undefined, call: number, ret: number): KvOp => ({
  clientId,
  kind: 'get',
  key,
  output,
  call,
  return: ret,
});

test('sequential histories that follow the model are linearizable', (t) => {
  t.true(
    checkKvHistory([
      put(1, 'x', 'a', 0, 1),
      get(1, 'x', 'a', 2, 3),
      put(1, 'x', 'b', 4, 5),
      get(2, 'x', 'b', 6, 7),
    ]).ok,
  );
  t.true(checkKvHistory([get(1, 'x', undefined, 0, 1)]).ok);
});

test('a stale read after a completed write is not linearizable', (t) => {
  const r = checkKvHistory([put(1, 'x', 'a', 0, 1), put(1, 'x', 'b', 2, 3), get(2, 'x', 'a', 4, 5)]);
  t.false(r.ok);
  t.is(r.key, 'x');
});

test('concurrent operations may take effect in either order', (t) => {
  // The read overlaps the write: it may see the old or the new value.
  t.true(checkKvHistory([put(1, 'x', 'a', 0, 1), put(1, 'x', 'b', 2, 10), get(2, 'x', 'a', 3, 4)]).ok);
  t.true(checkKvHistory([put(1, 'x', 'a', 0, 1), put(1, 'x', 'b', 2, 10), get(2, 'x', 'b', 3, 4)]).ok);
  // Two reads overlapping one write must not see new then old.
  t.false(
    checkKvHistory([
      put(1, 'x', 'a', 0, 1),
      put(1, 'x', 'b', 2, 10),
      get(2, 'x', 'b', 3, 4),
      get(3, 'x', 'a', 5, 6),
    ]).ok,
  );
});

test('a write whose client never heard back may or may not have happened', (t) => {
  t.true(checkKvHistory([put(1, 'x', 'a', 0, 1), put(2, 'x', 'b', 2, Infinity), get(3, 'x', 'a', 3, 4)]).ok);
  t.true(checkKvHistory([put(1, 'x', 'a', 0, 1), put(2, 'x', 'b', 2, Infinity), get(3, 'x', 'b', 3, 4)]).ok);
  t.false(
    checkKvHistory([put(1, 'x', 'a', 0, 1), put(2, 'x', 'b', 2, Infinity), get(3, 'x', 'c', 3, 4)]).ok,
    'c was never written',
  );
});

test('keys are checked independently; a violation names its key', (t) => {
  const r = checkKvHistory([
    put(1, 'x', 'a', 0, 1),
    get(1, 'x', 'a', 2, 3),
    put(1, 'y', 'a', 0, 1),
    get(2, 'y', undefined, 2, 3),
  ]);
  t.false(r.ok);
  t.is(r.key, 'y');
});

test('a large concurrent history is checked quickly', (t) => {
  const ops: KvOp[] = [];
  let time = 0;
  // 8 clients, 200 rounds of overlapping writes and reads against a register that takes effect at each call.
  let value: string | undefined;
  for (let round = 0; round < 200; round++) {
    const start = time;
    for (let c = 0; c < 8; c++) {
      if (c % 2 === 0) {
        value = `v${round}-${c}`;
        ops.push(put(c, 'k', value, start + c, start + 20));
      } else ops.push(get(c, 'k', value, start + c, start + 20));
    }
    time += 21;
  }
  const t0 = Date.now();
  t.true(checkKvHistory(ops).ok);
  t.true(Date.now() - t0 < 5000);
});

test('malformed histories are refused with a clear InvalidArgument', (t) => {
  t.throws(() => checkKvHistory([put(1, 'x', 'a', 5, 2)]), {
    instanceOf: InvalidArgument,
    message: /operation 0: return \(2\) must be a time >= call \(5\)/,
  });
  t.throws(() => checkKvHistory([{ ...get(1, 'x', 'a', 0, 1), kind: 'cas' as never }]), {
    instanceOf: InvalidArgument,
    message: /kind must be "put" or "get"/,
  });
  t.throws(() => checkKvHistory([{ clientId: 1, kind: 'put', key: 'x', call: 0, return: 1 }]), {
    instanceOf: InvalidArgument,
    message: /a put needs a string value/,
  });
  t.throws(() => checkKvHistory([get(1, 'x', 'a', Number.NaN, 1)]), {
    instanceOf: InvalidArgument,
    message: /call must be a finite time/,
  });
});

test('a large history with one stale read is found non-linearizable quickly (memoisation)', (t) => {
  const ops: KvOp[] = [];
  for (let round = 0; round < 150; round++) {
    const start = round * 21;
    for (let c = 0; c < 8; c++) ops.push(put(c, 'k', `v${round}-${c}`, start + c, start + 20));
  }
  // After every write returned, a read sees a value that was overwritten long ago.
  ops.push(get(9, 'k', 'v3-0', 150 * 21 + 5, 150 * 21 + 6));
  const t0 = Date.now();
  const r = checkKvHistory(ops);
  t.false(r.ok);
  t.is(r.key, 'k');
  t.true(Date.now() - t0 < 5000);
});

test('many writes of unknown outcome that nobody read do not blow up the search; a stale read is still found', (t) => {
  // As in the chaos test: clients time out during leader kills, leaving writes pending forever.
  const ops: KvOp[] = [];
  for (let round = 0; round < 120; round++) {
    const start = round * 21;
    for (let c = 0; c < 4; c++) ops.push(put(c, 'k', `v${round}-${c}`, start + c, start + 20));
    for (let c = 4; c < 8; c++) ops.push(put(c, 'k', `lost${round}-${c}`, start + c, Infinity));
  }
  ops.push(get(9, 'k', 'v119-3', 120 * 21 + 5, 120 * 21 + 6));
  const t0 = Date.now();
  t.true(checkKvHistory(ops).ok);
  // A read of a lost write is still allowed (it may have happened)...
  t.true(checkKvHistory([...ops, get(9, 'k', 'lost119-7', 120 * 21 + 7, 120 * 21 + 8)]).ok);
  // ...but not a read of a value overwritten long before.
  t.false(checkKvHistory([...ops, get(9, 'k', 'v3-0', 120 * 21 + 7, 120 * 21 + 8)]).ok);
  t.true(Date.now() - t0 < 5000);
});

/** Brute force: some order of all operations that respects real time and the register's semantics. */
function bruteForce(ops: KvOp[]): boolean {
  const byKey = new Map<string, KvOp[]>();
  for (const o of ops) byKey.set(o.key, [...(byKey.get(o.key) ?? []), o]);
  const search = (left: KvOp[], state: string | undefined): boolean => {
    if (left.length === 0) return true;
    return left.some((o, i) => {
      // o may go next only if no other remaining operation returned before o was called.
      if (left.some((p) => p !== o && p.return < o.call)) return false;
      const rest = left.filter((_, j) => j !== i);
      if (o.kind === 'put') return search(rest, o.value);
      // A read that never returned may be dropped; otherwise it must see the state.
      return (o.return === Infinity && search(rest, state)) || (o.output === state && search(rest, state));
    });
  };
  const dropPending = (list: KvOp[], i = 0): boolean => {
    // A write that never returned may also never have happened: try with and without each.
    if (i === list.length) return search(list, undefined);
    const o = list[i]!;
    if (o.kind === 'put' && o.return === Infinity)
      return dropPending(list, i + 1) || dropPending([...list.slice(0, i), ...list.slice(i + 1)], i);
    return dropPending(list, i + 1);
  };
  return [...byKey.values()].every((list) => dropPending(list));
}

test('agrees with a brute-force search on random small histories', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          clientId: fc.nat(3),
          kind: fc.constantFrom('put' as const, 'get' as const),
          key: fc.constantFrom('x', 'y'),
          v: fc.constantFrom('a', 'b', undefined),
          call: fc.nat(10),
          len: fc.oneof(fc.nat(6), fc.constant(Infinity)),
        }),
        { maxLength: 6 },
      ),
      (raw) => {
        const ops: KvOp[] = raw.map((r) =>
          r.kind === 'put'
            ? put(r.clientId, r.key, r.v ?? 'c', r.call, r.call + r.len)
            : get(r.clientId, r.key, r.v, r.call, r.call + r.len),
        );
        return checkKvHistory(ops).ok === bruteForce(ops);
      },
    ),
    { numRuns: 3000, seed: 42 },
  );
  t.pass();
});
