// The Raft paper's claims as black-box tests of the core (named after etcd's raft_paper_test).
import test from 'ava';
import {
  RaftCore,
  EntryType,
  NotLeaderError,
  type Entry,
  type Message,
  type RaftConfig,
} from '../../../raft/index.js';
import { config, rng, Cluster, SimNode } from '../../support/raft-harness.js';

function core(
  id: string,
  voters: string[],
  o: Partial<RaftConfig> = {},
  entries: Entry[] = [],
  term = 0,
  seed = 7,
): RaftCore {
  return new RaftCore(config(id, rng(seed), { preVote: false, checkQuorum: false, ...o }), {
    hardState: { term, vote: '', commit: 0 },
    conf: { voters, learners: [] },
    entries,
  });
}

function drain(c: RaftCore): Message[] {
  if (!c.hasReady()) return [];
  const rd = c.ready();
  c.advance(rd);
  return rd.messages;
}

const msg = (m: Partial<Message> & Pick<Message, 'type' | 'from' | 'to' | 'term'>): Message => ({
  logTerm: 0,
  index: 0,
  commit: 0,
  ...m,
});
const ent = (index: number, term: number, data = ''): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: Buffer.from(data),
});

function makeLeader(c: RaftCore, peers: string[]): void {
  c.campaign();
  for (const p of peers) c.step(msg({ type: 'voteResp', from: p, to: c.id, term: c.term }));
  drain(c);
}

test('UpdateTermFromMessage: a higher term makes any role a follower of that term', (t) => {
  for (const role of ['follower', 'candidate', 'leader'] as const) {
    const c = core('1', ['1', '2', '3']);
    if (role === 'candidate') c.campaign();
    if (role === 'leader') makeLeader(c, ['2']);
    c.step(msg({ type: 'app', from: '2', to: '1', term: 9 }));
    t.is(c.term, 9, role);
    t.is(c.role, 'follower', role);
  }
});

test('RejectStaleTermMessage: messages of an older term are ignored', (t) => {
  const c = core('1', ['1', '2', '3'], {}, [], 3);
  c.step(msg({ type: 'app', from: '2', to: '1', term: 2, entries: [ent(1, 2)] }));
  t.is(c.log.lastIndex(), 0);
  t.is(c.term, 3);
});

test('StartAsFollower', (t) => {
  t.is(core('1', ['1', '2', '3']).role, 'follower');
});

test('LeaderBcastBeat: the leader sends heartbeats every heartbeat tick', (t) => {
  const c = core('1', ['1', '2', '3']);
  makeLeader(c, ['2']);
  c.tick();
  const hb = drain(c).filter((m) => m.type === 'heartbeat');
  t.deepEqual(hb.map((m) => m.to).sort(), ['2', '3']);
});

test('FollowerStartElection / CandidateStartNewElection: timeout increments the term and asks for votes', (t) => {
  const c = core('1', ['1', '2', '3']);
  while (c.role === 'follower') c.tick();
  t.is(c.role, 'candidate');
  t.is(c.term, 1);
  t.is(c.status().vote, '1');
  const votes = drain(c).filter((m) => m.type === 'vote');
  t.deepEqual(votes.map((m) => m.to).sort(), ['2', '3']);
  for (let i = 0; i < 20 && c.term === 1; i++) c.tick();
  t.is(c.role, 'candidate');
  t.is(c.term, 2, 'a candidate that times out starts a new election');
});

test('LeaderElectionInOneRoundRPC: outcomes by vote counts', (t) => {
  const cases: [number, Record<string, boolean>, 'leader' | 'follower' | 'candidate'][] = [
    [1, {}, 'leader'],
    [3, { '2': true, '3': true }, 'leader'],
    [3, { '2': true }, 'leader'],
    [5, { '2': true, '3': true, '4': true, '5': true }, 'leader'],
    [5, { '2': true, '3': true }, 'leader'],
    [3, { '2': false, '3': false }, 'follower'],
    [5, { '2': false, '3': false, '4': false }, 'follower'],
    [3, {}, 'candidate'],
    [5, { '2': true }, 'candidate'],
    [5, { '2': false, '3': false }, 'candidate'],
  ];
  for (const [size, votes, want] of cases) {
    const ids = Array.from({ length: size }, (_, i) => String(i + 1));
    const c = core('1', ids);
    c.campaign();
    for (const [from, granted] of Object.entries(votes))
      c.step(msg({ type: 'voteResp', from, to: '1', term: c.term, reject: !granted }));
    t.is(c.role, want, `${size} nodes, votes ${JSON.stringify(votes)}`);
  }
});

test('FollowerVote: one vote per term, first come first served', (t) => {
  const cases: [string, string, boolean][] = [
    ['', '2', true],
    ['2', '2', true],
    ['3', '2', false],
  ];
  for (const [voted, from, granted] of cases) {
    const c = new RaftCore(config('1', rng(1), { preVote: false, checkQuorum: false }), {
      hardState: { term: 1, vote: voted, commit: 0 },
      conf: { voters: ['1', '2', '3'], learners: [] },
      entries: [],
    });
    c.step(msg({ type: 'vote', from, to: '1', term: 1 }));
    const resp = drain(c).find((m) => m.type === 'voteResp')!;
    t.is(!resp.reject, granted, `voted=${voted} from=${from}`);
  }
});

test('CandidateFallback: a candidate hearing from a leader of its term or later steps down', (t) => {
  for (const term of [1, 2]) {
    const c = core('1', ['1', '2', '3']);
    c.campaign();
    c.step(msg({ type: 'app', from: '2', to: '1', term }));
    t.is(c.role, 'follower');
    t.is(c.term, term);
  }
});

test('ElectionTimeoutRandomized and Nonconflict: timeouts spread over [et, 2et)', (t) => {
  const seen = new Set<number>();
  for (let seed = 1; seed < 200; seed++) {
    const c = core('1', ['1', '2', '3'], {}, [], 0, seed);
    let ticks = 0;
    while (c.role === 'follower' && ticks < 100) {
      c.tick();
      ticks++;
    }
    t.true(ticks >= 10 && ticks < 20, `timeout ${ticks}`);
    seen.add(ticks);
  }
  t.true(seen.size >= 8, 'timeouts are randomized');
  // Nonconflict: in a 5-node cluster usually only one node times out first.
  let conflicts = 0;
  for (let seed = 1; seed < 200; seed++) {
    const r = rng(seed);
    const nodes = ['1', '2', '3', '4', '5'].map(
      (id) =>
        new RaftCore(config(id, r, { preVote: false, checkQuorum: false }), {
          hardState: { term: 0, vote: '', commit: 0 },
          conf: { voters: ['1', '2', '3', '4', '5'], learners: [] },
          entries: [],
        }),
    );
    let first = 0;
    while (first === 0) {
      for (const n of nodes) n.tick();
      first = nodes.filter((n) => n.role === 'candidate').length;
    }
    if (first > 1) conflicts++;
  }
  t.true(conflicts / 200 < 0.3, `conflict rate ${conflicts / 200}`);
});

test('LeaderStartReplication: a proposal is appended and sent to all followers', (t) => {
  const c = core('1', ['1', '2', '3']);
  makeLeader(c, ['2']);
  for (const p of ['2', '3'])
    c.step(msg({ type: 'appResp', from: p, to: '1', term: c.term, index: c.log.lastIndex() }));
  drain(c);
  const index = c.propose(Buffer.from('x'));
  t.is(index, c.log.lastIndex());
  const apps = drain(c).filter((m) => m.type === 'app');
  t.deepEqual(apps.map((m) => m.to).sort(), ['2', '3']);
  t.true(
    apps.every(
      (m) =>
        m.entries!.length === 1 &&
        Buffer.from(m.entries![0]!.data).toString() === 'x' &&
        m.index === index - 1,
    ),
  );
});

test('LeaderCommitEntry / LeaderAcknowledgeCommit: committed once a majority has it', (t) => {
  const c = core('1', ['1', '2', '3', '4', '5']);
  makeLeader(c, ['2', '3']);
  const noop = c.log.lastIndex();
  const index = c.propose(Buffer.from('x'));
  drain(c);
  c.step(msg({ type: 'appResp', from: '2', to: '1', term: c.term, index }));
  t.true(c.log.committed < index, 'two of five is not a majority');
  c.step(msg({ type: 'appResp', from: '3', to: '1', term: c.term, index }));
  t.is(c.log.committed, index);
  t.true(noop < index);
  const rd = c.ready();
  t.deepEqual(
    rd.committedEntries.map((e) => e.index),
    [noop, index],
  );
});

test('LeaderCommitPrecedingEntries: committing an entry commits everything before it', (t) => {
  const c = core('1', ['1', '2', '3'], {}, [ent(1, 1, 'a'), ent(2, 1, 'b')], 1);
  makeLeader(c, ['2']);
  const index = c.propose(Buffer.from('c'));
  drain(c);
  c.step(msg({ type: 'appResp', from: '2', to: '1', term: c.term, index }));
  t.is(c.log.committed, index);
  t.deepEqual(
    c.ready().committedEntries.map((e) => e.index),
    [1, 2, 3, 4],
  );
});

test('FollowerCommitEntry: a follower commits what the leader says is committed', (t) => {
  const c = core('1', ['1', '2', '3']);
  c.step(
    msg({
      type: 'app',
      from: '2',
      to: '1',
      term: 1,
      index: 0,
      logTerm: 0,
      entries: [ent(1, 1, 'a'), ent(2, 1, 'b')],
      commit: 1,
    }),
  );
  t.is(c.log.committed, 1);
  t.deepEqual(
    c.ready().committedEntries.map((e) => e.index),
    [1],
  );
});

test('FollowerCheckMsgApp: an append must match the previous entry, else it is rejected with a hint', (t) => {
  const c = core('1', ['1', '2', '3'], {}, [ent(1, 1), ent(2, 2)], 2);
  c.step(msg({ type: 'app', from: '2', to: '1', term: 2, index: 2, logTerm: 2, commit: 0 }));
  t.false(drain(c).find((m) => m.type === 'appResp')!.reject ?? false);
  c.step(msg({ type: 'app', from: '2', to: '1', term: 2, index: 2, logTerm: 3, commit: 0 }));
  const rej = drain(c).find((m) => m.type === 'appResp')!;
  t.true(rej.reject);
  t.is(rej.rejectHint, 2);
  t.is(rej.logTerm, 2);
  c.step(msg({ type: 'app', from: '2', to: '1', term: 2, index: 3, logTerm: 3, commit: 0 }));
  t.true(drain(c).find((m) => m.type === 'appResp')!.reject);
});

test('FollowerAppendEntries: conflicting suffixes are replaced, matching ones kept', (t) => {
  const c = core('1', ['1', '2', '3'], {}, [ent(1, 1), ent(2, 2), ent(3, 2)], 2);
  c.step(
    msg({
      type: 'app',
      from: '2',
      to: '1',
      term: 3,
      index: 1,
      logTerm: 1,
      entries: [ent(2, 3), ent(3, 3), ent(4, 3)],
    }),
  );
  t.deepEqual(
    c.log.slice(1, 5).map((e) => e.term),
    [1, 3, 3, 3],
  );
  c.step(msg({ type: 'app', from: '2', to: '1', term: 3, index: 1, logTerm: 1, entries: [ent(2, 3)] }));
  t.is(c.log.lastIndex(), 4, 'a shorter matching append does not truncate');
});

test("LeaderSyncFollowerLog: Figure 7's followers all converge to the leader's log", (t) => {
  const terms = (ts: number[]) => ts.map((term, i) => ent(i + 1, term, `${i + 1}@${term}`));
  const leaderLog = terms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6]);
  const followers = [
    terms([1, 1, 1, 4, 4, 5, 5, 6, 6]),
    terms([1, 1, 1, 4]),
    terms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]),
    terms([1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]),
    terms([1, 1, 1, 4, 4, 4, 4]),
    terms([1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]),
  ];
  for (const [i, flog] of followers.entries()) {
    const cl = new Cluster(['1', '2', '3'], i + 1, { preVote: false, checkQuorum: false });
    cl.nodes.set('1', cl.node('1'));
    cl.node('1').core = new RaftCore(config('1', rng(1), { preVote: false, checkQuorum: false }), {
      hardState: { term: 8, vote: '', commit: 0 },
      conf: { voters: ['1', '2', '3'], learners: [] },
      entries: leaderLog.slice(),
    });
    cl.node('2').core = new RaftCore(config('2', rng(2), { preVote: false, checkQuorum: false }), {
      hardState: { term: 7, vote: '', commit: 0 },
      conf: { voters: ['1', '2', '3'], learners: [] },
      entries: flog.slice(),
    });
    // The third node votes for the leader but stays behind: it has nothing.
    cl.elect('1');
    cl.propose('new');
    const want = cl
      .node('1')
      .core.log.slice(1, cl.node('1').core.log.lastIndex() + 1)
      .map((e) => e.term);
    t.deepEqual(
      cl
        .node('2')
        .core.log.slice(1, cl.node('2').core.log.lastIndex() + 1)
        .map((e) => e.term),
      want,
      `follower ${String.fromCharCode(97 + i)}`,
    );
  }
});

test('VoteRequest and Voter: votes go only to candidates at least as up to date', (t) => {
  const cases: [Entry[], number, number, boolean][] = [
    [[ent(1, 1)], 1, 1, true],
    [[ent(1, 1)], 1, 2, true],
    [[ent(1, 1), ent(2, 1)], 1, 1, false],
    [[ent(1, 1)], 2, 1, true],
    [[ent(1, 2)], 1, 1, false],
    [[ent(1, 2)], 1, 3, false],
    [[ent(1, 2)], 3, 1, true],
  ];
  for (const [log, logTerm, index, grant] of cases) {
    const c = core('1', ['1', '2'], {}, log, 2);
    c.step(msg({ type: 'vote', from: '2', to: '1', term: 3, logTerm, index }));
    t.is(!drain(c).find((m) => m.type === 'voteResp')!.reject, grant, JSON.stringify({ logTerm, index }));
  }
});

test('LeaderOnlyCommitsLogFromCurrentTerm (Figure 8): older-term entries commit only with a current-term entry', (t) => {
  const c = core('1', ['1', '2', '3'], {}, [ent(1, 1), ent(2, 2)], 2);
  makeLeader(c, ['2']);
  const noop = c.log.lastIndex();
  t.is(noop, 3);
  // A majority has entry 2 (term 2), but it is not of the current term: nothing commits.
  c.step(msg({ type: 'appResp', from: '2', to: '1', term: c.term, index: 2 }));
  t.is(c.log.committed, 0);
  c.step(msg({ type: 'appResp', from: '2', to: '1', term: c.term, index: 3 }));
  t.is(c.log.committed, 3);
});

test('pre-vote: a partitioned node that rejoins does not depose a healthy leader', (t) => {
  const cl = new Cluster(['1', '2', '3'], 3);
  cl.elect('1');
  const term = cl.node('1').core.term;
  cl.isolate('3');
  cl.tick(100);
  t.is(cl.node('3').core.term, term, 'pre-votes fail without raising the term');
  cl.heal();
  cl.tick(3);
  t.is(cl.leader()!.id, '1');
  t.is(cl.node('1').core.term, term);
});

test('check-quorum: a leader cut off from the majority steps down', (t) => {
  const cl = new Cluster(['1', '2', '3'], 4);
  cl.elect('1');
  cl.isolate('1');
  cl.tick(25);
  t.is(cl.node('1').core.role, 'follower');
  t.not(cl.leader()?.id, '1');
});

test('leadership transfer to an up-to-date follower', (t) => {
  const cl = new Cluster(['1', '2', '3'], 5);
  cl.elect('1');
  cl.propose('a');
  cl.node('1').core.transferLeadership('3');
  cl.stabilize();
  t.is(cl.leader()!.id, '3');
  t.throws(() => cl.node('1').core.propose(Buffer.from('x')), {
    instanceOf: NotLeaderError,
    message: 'not the leader (leader is 3)',
  });
});

test('learners: added as learner, catch up without voting, then promoted; removal shrinks the group', (t) => {
  const cl = new Cluster(['1', '2', '3'], 6);
  cl.elect('1');
  cl.propose('a');
  // A joining member starts with the membership the cluster tells it (as the join response will).
  const n4 = new SimNode('4', config('4', rng(4)), { voters: ['1', '2', '3'], learners: [] });
  cl.nodes.set('4', n4);
  cl.node('1').core.proposeConfChange({ type: 'addLearner', id: '4' });
  t.throws(
    () => cl.node('1').core.proposeConfChange({ type: 'remove', id: '3' }),
    { message: /already in progress/ },
    'one change at a time',
  );
  cl.stabilize();
  cl.propose('b');
  t.deepEqual(n4.applied, ['a', 'b'], 'the learner catches up');
  t.deepEqual(cl.node('1').core.status().conf, { voters: ['1', '2', '3'], learners: ['4'] });
  cl.tick(1);
  cl.node('1').core.proposeConfChange({ type: 'addVoter', id: '4' });
  cl.stabilize();
  cl.tick(1);
  t.deepEqual(cl.node('1').core.status().conf, { voters: ['1', '2', '3', '4'], learners: [] });
  cl.node('1').core.proposeConfChange({ type: 'remove', id: '1' });
  cl.stabilize();
  cl.tick(30);
  const leader = cl.leader()!;
  t.not(leader.id, '1', 'the removed leader stepped down and someone else leads');
  t.deepEqual(leader.core.status().conf.voters, ['2', '3', '4']);
});

test('snapshot install: a follower far behind gets a snapshot', (t) => {
  const cl = new Cluster(['1', '2', '3'], 8);
  cl.elect('1');
  cl.isolate('3');
  for (let i = 0; i < 20; i++) cl.propose(`v${i}`);
  cl.node('1').snapshotNow();
  t.true(cl.node('1').core.log.snapIndex > 0);
  cl.heal();
  cl.tick(3);
  cl.node('1').core.reportSnapshot('3', true);
  cl.tick(3);
  cl.propose('after');
  t.deepEqual(cl.node('3').applied, cl.node('1').applied);
  t.is(cl.node('3').applied.at(-1), 'after');
});

test('ReadIndex: confirmed by a heartbeat round; a follower gets the leader index', (t) => {
  const cl = new Cluster(['1', '2', '3'], 9);
  cl.elect('1');
  cl.propose('a');
  const ctx = Buffer.from('r1');
  cl.node('1').core.readIndex(ctx);
  const rd = cl.node('1').core.ready();
  cl.node('1').core.advance(rd);
  t.is(rd.readStates.length, 0, 'not before a quorum confirmed');
  for (const m of rd.messages) cl.deliver(m);
  let states: { index: number; requestCtx: Uint8Array }[] = [];
  for (let i = 0; i < 5; i++) {
    for (const n of cl.nodes.values()) {
      if (!n.core.hasReady()) continue;
      const r = n.core.ready();
      n.core.advance(r);
      if (n.id === '1') states = states.concat(r.readStates);
      for (const m of r.messages) cl.deliver(m);
    }
  }
  t.is(states.length, 1);
  t.is(states[0]!.index, cl.node('1').core.log.committed);
  cl.node('2').core.readIndex(Buffer.from('r2'));
  let got: { index: number }[] = [];
  for (let i = 0; i < 5; i++) {
    for (const n of cl.nodes.values()) {
      if (!n.core.hasReady()) continue;
      const r = n.core.ready();
      n.core.advance(r);
      if (n.id === '2') got = got.concat(r.readStates);
      for (const m of r.messages) cl.deliver(m);
    }
  }
  t.is(got.length, 1);
  t.is(got[0]!.index, cl.node('1').core.log.committed);
});

test('bad input: malformed, unknown-member votes and stale messages are dropped and counted', (t) => {
  const c = core('1', ['1', '2', '3'], {}, [], 5);
  c.step({ type: 'app', from: '2' } as unknown as Message);
  c.step(msg({ type: 'bogus' as never, from: '2', to: '1', term: 5 }));
  c.step(msg({ type: 'vote', from: '9', to: '1', term: 6 }));
  c.step(msg({ type: 'vote', from: '2', to: '1', term: 1 }));
  c.step(
    msg({
      type: 'app',
      from: '2',
      to: '1',
      term: 5,
      index: 0,
      entries: [{ index: 7, term: 5, type: 0, data: Buffer.from('') }],
    }),
  );
  c.step(null as unknown as Message);
  t.is(c.droppedMessages, 6);
  t.is(c.term, 5);
  t.is(c.log.lastIndex(), 0);
});
