import test from 'ava';
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
