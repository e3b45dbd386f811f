import test from 'ava';
import { Limiter } from '../../../api/index.js';

test('at most max run at once, the rest in order; a failure frees its place', async (t) => {
  const l = new Limiter(2);
  let active = 0;
  let peak = 0;
  const order: number[] = [];
  const job = (i: number) =>
    l.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      active--;
      if (i === 1) throw new Error('boom');
      return i;
    });
  const results = await Promise.allSettled([0, 1, 2, 3, 4].map(job));
  t.is(peak, 2);
  t.deepEqual(order, [0, 1, 2, 3, 4]);
  t.is(results.filter((r) => r.status === 'rejected').length, 1);
  t.is(await l.run(async () => 'free again'), 'free again');
});
