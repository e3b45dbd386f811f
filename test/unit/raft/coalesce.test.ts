// Folding a Ready's repeated messages to one member into one.
import test from 'ava';
import { EntryType, type Entry, type Message } from '../../../raft/index.js';
import { coalesce } from '../../../raft/core/coalesce.js';

const ent = (index: number, term = 2, bytes = 10): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(bytes),
});

function app(to: string, index: number, entries: Entry[], commit = 0, logTerm = 2): Message {
  return { type: 'app', from: '1', to, term: 2, logTerm, index, entries, commit };
}

function resp(to: string, index: number, reject = false): Message {
  return { type: 'appResp', from: '2', to, term: 2, logTerm: 0, index, commit: 0, reject };
}

test('appends that continue each other become one append per member, with the later commit', (t) => {
  const out = coalesce(
    [
      app('2', 4, [ent(5)], 3),
      app('3', 4, [ent(5)], 3),
      app('2', 5, [ent(6), ent(7)], 4),
      app('2', 7, [], 5),
    ],
    1 << 20,
  );
  t.deepEqual(out, [app('2', 4, [ent(5), ent(6), ent(7)], 5), app('3', 4, [ent(5)], 3)]);
});

test('appends that do not continue each other, or differ in term, or pass maxBytes stay apart', (t) => {
  const gap = [app('2', 4, [ent(5)]), app('2', 6, [ent(7)])];
  t.deepEqual(coalesce(gap, 1 << 20), gap, 'a gap');
  const otherTerm = [app('2', 4, [ent(5, 1)]), app('2', 5, [ent(6)], 0, 2)];
  t.deepEqual(coalesce(otherTerm, 1 << 20), otherTerm, 'b does not follow the entry a ends with');
  const big = [app('2', 4, [ent(5, 2, 100)]), app('2', 5, [ent(6, 2, 100)])];
  t.deepEqual(coalesce(big, 200), big, 'together over maxBytes');
  const between: Message[] = [
    app('2', 4, [ent(5)]),
    { type: 'heartbeat', from: '1', to: '2', term: 2, logTerm: 0, index: 0, commit: 4 },
    app('2', 5, [ent(6)]),
  ];
  t.deepEqual(coalesce(between, 1 << 20), between, 'another message to the member in between');
});

test('acceptances to one member fold into the highest; rejections are kept', (t) => {
  t.deepEqual(coalesce([resp('1', 5), resp('1', 7), resp('1', 6)], 1 << 20), [resp('1', 7)]);
  const withReject = [resp('1', 5), resp('1', 3, true), resp('1', 7)];
  t.deepEqual(coalesce(withReject, 1 << 20), withReject);
});
