import test from 'ava';
import { copyData } from '../../../manager/store/copy.js';

test('copyData copies plain data deeply, keeping undefined fields, bytes, dates, maps and sets', (t) => {
  const src = {
    a: 1,
    s: 'x',
    n: null,
    u: undefined,
    arr: [1, { b: [2, 3] }],
    nested: { deep: { deeper: true } },
    bytes: Buffer.from('hi'),
    u8: new Uint8Array([1, 2]),
    when: new Date(0),
    map: new Map([['k', { v: 1 }]]),
    set: new Set([1, 2]),
  };
  const c = copyData(src);
  t.deepEqual(c, src);
  t.true('u' in c);
  t.not(c.arr, src.arr);
  t.not(c.arr[1], src.arr[1]);
  t.not(c.nested.deep, src.nested.deep);
  t.not(c.bytes, src.bytes);
  t.true(Buffer.isBuffer(c.bytes));
  c.bytes[0] = 0;
  t.is(src.bytes.toString(), 'hi');
  t.not(c.u8, src.u8);
  t.not(c.when, src.when);
  t.not(c.map.get('k'), src.map.get('k'));
  (c.nested.deep as { deeper: boolean }).deeper = false;
  t.true(src.nested.deep.deeper);
});

test('copyData copies objects without a prototype and leaves primitives as they are', (t) => {
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { x: { y: 1 } });
  const c = copyData(bare);
  t.deepEqual({ ...c }, { x: { y: 1 } });
  t.not(c.x, bare.x);
  t.is(copyData(5), 5);
  t.is(copyData('s'), 's');
  t.is(copyData(undefined), undefined);
});
