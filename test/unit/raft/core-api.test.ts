// The core's contract with its driver: who may propose, the typed errors it raises, and ReadIndex on a new leader.
import test from 'ava';
import { FailedPrecondition, InvalidArgument, Unavailable } from '../../../api/index.js';
import { EntryType, NotLeaderError, RaftCore, type ReadState } from '../../../raft/index.js';
import { Cluster, config, rng } from '../../support/raft-harness.js';

test('a follower refuses proposals with a NotLeaderError naming the leader; with no leader the hint is empty', (t) => {
  const cl = new Cluster(['1', '2', '3'], 11);
  t.throws(() => cl.node('2').core.propose(Buffer.from('x')), {
    instanceOf: NotLeaderError,
    message: /no leader/,
  });
  cl.elect('1');
  const err = t.throws(() => cl.node('2').core.propose(Buffer.from('x')), { instanceOf: NotLeaderError });
  t.is(err.leaderHint, '1');
  t.true(err instanceof Unavailable, 'callers may treat it as a retryable Unavailable');
  t.throws(() => cl.node('3').core.proposeConfChange({ type: 'remove', id: '2' }), {
    instanceOf: NotLeaderError,
  });
});

test('the leader drops proposals beyond the uncommitted size cap and while a transfer is in progress', (t) => {
  const cl = new Cluster(['1', '2', '3'], 12, { maxUncommittedEntriesSize: 1000 });
  cl.elect('1');
  cl.isolate('1');
  const leader = cl.node('1').core;
  leader.propose(new Uint8Array(600)); // the first uncommitted proposal is always accepted
  t.throws(() => leader.propose(new Uint8Array(600)), { instanceOf: Unavailable, message: /uncommitted/ });
  cl.heal();
  cl.tick(2);
  t.notThrows(() => leader.propose(new Uint8Array(600)), 'committing frees the budget');
  cl.stabilize();

  // Node 3 is cut off, so the transfer cannot complete; proposals are refused meanwhile.
  cl.isolate('3');
  cl.propose('behind');
  leader.transferLeadership('3');
  t.throws(() => leader.propose(Buffer.from('y')), { instanceOf: Unavailable, message: /transfer to 3/ });
  // Abandoned after an election timeout: proposals flow again.
  cl.heal();
  cl.isolate('3');
  cl.tick(12);
  t.is(cl.leader()!.id, '1');
  t.notThrows(() => leader.propose(Buffer.from('z')));
});

test('only one configuration change at a time: FailedPrecondition until the pending one is applied', (t) => {
  const cl = new Cluster(['1', '2', '3'], 13);
  cl.elect('1');
  cl.isolate('1');
  const leader = cl.node('1').core;
  leader.proposeConfChange({ type: 'addLearner', id: '4' });
  t.throws(() => leader.proposeConfChange({ type: 'addLearner', id: '5' }), {
    instanceOf: FailedPrecondition,
  });
  cl.heal();
  cl.stabilize();
  t.deepEqual(leader.status().conf.learners, ['4']);
  t.notThrows(() => leader.proposeConfChange({ type: 'addLearner', id: '5' }));
});

test('compact refuses a snapshot beyond the applied index or with the wrong term', (t) => {
  const cl = new Cluster(['1', '2', '3'], 14);
  cl.elect('1');
  cl.propose('a');
  const core = cl.node('1').core;
  const conf = core.status().conf;
  const applied = core.status().applied;
  t.throws(
    () => core.compact({ meta: { index: applied + 5, term: core.term, conf }, data: new Uint8Array() }),
    {
      instanceOf: InvalidArgument,
      message: /beyond the applied index/,
    },
  );
  t.throws(
    () => core.compact({ meta: { index: applied, term: core.term + 7, conf }, data: new Uint8Array() }),
    {
      instanceOf: InvalidArgument,
      message: /has term/,
    },
  );
  core.compact({ meta: { index: applied, term: core.term, conf }, data: new Uint8Array() });
  t.is(core.log.snapIndex, applied);
});

test('ReadIndex on a new leader waits until an entry of its own term commits', (t) => {
  // No lease, so node 2 can take over at once when told to campaign.
  const cl = new Cluster(['1', '2', '3'], 15, { preVote: false, checkQuorum: false });
  cl.elect('1');
  cl.propose('a');
  const pump = (deliver: (type: string) => boolean, tickLeader = false): ReadState[] => {
    const states: ReadState[] = [];
    for (let i = 0; i < 6; i++) {
      // Heartbeats (the leader's tick) get a probe that was lost going again.
      if (tickLeader) cl.node('2').core.tick();
      for (const n of cl.nodes.values()) {
        if (!n.core.hasReady()) continue;
        const rd = n.core.ready();
        n.core.advance(rd);
        if (n.id === '2') states.push(...rd.readStates);
        for (const m of rd.messages) if (deliver(m.type)) cl.deliver(m);
      }
    }
    return states;
  };
  // Only election traffic flows: node 2 wins, but its first entry (the no-op) cannot commit.
  cl.node('2').core.campaign();
  pump((type) => type === 'vote' || type === 'voteResp');
  const leader = cl.node('2').core;
  t.is(leader.role, 'leader');
  t.not(leader.log.term(leader.log.committed), leader.term, 'its no-op is not committed yet');
  leader.readIndex(Buffer.from('early'));
  t.deepEqual(
    pump(() => true, true).length,
    1,
    'answered once the no-op committed and a heartbeat round confirmed',
  );
  t.is(leader.log.term(leader.log.committed), leader.term);

  // Again, with the answer inspected: the read index is a commit index of the leader's term.
  const states = (leader.readIndex(Buffer.from('later')), pump(() => true, true));
  t.is(states.length, 1);
  t.is(Buffer.from(states[0]!.requestCtx).toString(), 'later');
  t.is(states[0]!.index, leader.log.committed);
});

test('ReadIndex is not answered while the no-op of a new leader cannot commit', (t) => {
  const cl = new Cluster(['1', '2', '3'], 16, { preVote: false, checkQuorum: false });
  cl.elect('1');
  cl.propose('a');
  cl.node('2').core.campaign();
  const states: ReadState[] = [];
  for (let i = 0; i < 6; i++) {
    for (const n of cl.nodes.values()) {
      if (!n.core.hasReady()) continue;
      const rd = n.core.ready();
      n.core.advance(rd);
      if (n.id === '2') states.push(...rd.readStates);
      // Appends are lost: the no-op never commits, heartbeats still flow.
      for (const m of rd.messages) if (m.type !== 'app') cl.deliver(m);
    }
    if (i === 1) cl.node('2').core.readIndex(Buffer.from('early'));
  }
  t.is(cl.node('2').core.role, 'leader');
  t.deepEqual(states, [], 'a heartbeat quorum alone is not enough before an entry of this term commits');
});

test('restoring from an inconsistent log is refused with InvalidArgument; a stale tail is dropped', (t) => {
  const cfg = config('1', rng(1));
  const conf = { voters: ['1', '2', '3'], learners: [] };
  const e = (index: number, term: number) => ({
    index,
    term,
    type: EntryType.Normal,
    data: new Uint8Array(),
  });
  const hardState = { term: 3, vote: '', commit: 0 };
  t.throws(() => new RaftCore(cfg, { hardState, conf, entries: [e(1, 1), e(3, 1)] }), {
    instanceOf: InvalidArgument,
    message: /entry 1 has index 3, expected 2/,
  });
  const stale = new RaftCore(cfg, { hardState, conf, entries: [e(1, 2), e(2, 2), e(3, 1), e(4, 3)] });
  t.is(stale.log.lastIndex(), 2, 'a tail whose term goes down (left by a snapshot install) is dropped');
  t.throws(() => new RaftCore(cfg, { hardState: { ...hardState, commit: 5 }, conf, entries: [e(1, 1)] }), {
    instanceOf: InvalidArgument,
    message: /commit index 5 is beyond the last entry 1/,
  });
  const snapshot = { meta: { index: 2, term: 1, conf }, data: new Uint8Array() };
  const c = new RaftCore(cfg, {
    hardState: { ...hardState, commit: 3 },
    conf,
    snapshot,
    entries: [e(2, 1), e(3, 2)],
  });
  t.is(c.log.lastIndex(), 3, 'entries the snapshot covers are skipped');
  t.is(c.log.committed, 3);
});
