import test from 'ava';
import { decode, encode } from '../../../api/index.js';
import { EntryType, type ConfChange, type Entry } from '../../../raft/index.js';
import { committedConf, forceSingleMember } from '../../../raft/driver/force-new-cluster.js';

const cc = (term: number, index: number, c: ConfChange): Entry => ({
  term,
  index,
  type: EntryType.ConfChange,
  data: encode(c),
});
const put = (term: number, index: number): Entry => ({
  term,
  index,
  type: EntryType.Normal,
  data: encode({ index }),
});

test('keeps the committed log, drops the uncommitted tail, and commits removal of every other member', (t) => {
  const entries = [
    cc(1, 1, { type: 'addVoter', id: 'a' }),
    cc(1, 2, { type: 'addVoter', id: 'b' }),
    cc(1, 3, { type: 'addVoter', id: 'c' }),
    put(2, 4),
    cc(2, 5, { type: 'addLearner', id: 'd' }),
    put(3, 6),
    put(3, 7), // uncommitted
    put(3, 8), // uncommitted
  ];
  const f = forceSingleMember('b', undefined, { term: 4, vote: 'a', commit: 6 }, entries);
  t.deepEqual(
    f.entries.slice(0, 6).map((e) => e.index),
    [1, 2, 3, 4, 5, 6],
  );
  const removed = f.appended.map((e) => decode<ConfChange>(e.data));
  t.deepEqual(removed.map((c) => `${c.type} ${c.id}`).sort(), ['remove a', 'remove c', 'remove d']);
  t.deepEqual(
    f.appended.map((e) => [e.term, e.index]),
    [
      [4, 7],
      [4, 8],
      [4, 9],
    ],
  );
  t.deepEqual(f.hardState, { term: 4, vote: 'a', commit: 9 });
  t.deepEqual(committedConf(undefined, f.entries), { voters: ['b'], learners: [] });
});

test('a learner forced alone promotes itself; a lone voter still replaces the uncommitted tail', (t) => {
  const snapshot = {
    meta: { index: 10, term: 2, conf: { voters: ['a'], learners: ['z'] } },
    data: new Uint8Array(),
  };
  const f = forceSingleMember('z', snapshot, { term: 2, vote: '', commit: 10 }, [put(2, 11)]);
  t.deepEqual(committedConf(snapshot, f.entries), { voters: ['z'], learners: [] });
  t.deepEqual(
    f.appended.map((e) => decode<ConfChange>(e.data).type),
    ['addVoter', 'remove'],
    'promoted before the last voter is removed',
  );
  t.is(f.entries[0].index, 11, 'the uncommitted entry 11 is replaced');
  const lone = forceSingleMember('a', undefined, { term: 1, vote: 'a', commit: 1 }, [
    cc(1, 1, { type: 'addVoter', id: 'a' }),
    put(1, 2),
  ]);
  t.deepEqual(
    lone.appended.map((e) => [e.index, e.type, e.data.length]),
    [[2, EntryType.Normal, 0]],
  );
});

test('refuses a node without any log', (t) => {
  t.throws(() => forceSingleMember('a', undefined, { term: 0, vote: '', commit: 0 }, []), {
    message: /needs an existing Raft log/,
  });
});
