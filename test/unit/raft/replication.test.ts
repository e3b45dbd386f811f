// Flow control of the leader's replication: probe → replicate, batching by maxSizePerMsg, the inflight window,
// fast backtracking of rejected appends, and the snapshot state.
import test from 'ava';
import { EntryType, RaftCore, type Entry, type Message, type RaftConfig } from '../../../raft/index.js';
import { config, rng } from '../../support/raft-harness.js';

const ent = (index: number, term: number): Entry => ({
  index,
  term,
  type: EntryType.Normal,
  data: new Uint8Array(),
});

function member(id: string, o: Partial<RaftConfig> = {}, entries: Entry[] = [], term = 0): RaftCore {
  return new RaftCore(config(id, rng(3), { preVote: false, checkQuorum: false, ...o }), {
    hardState: { term, vote: '', commit: 0 },
    conf: { voters: ['1', '2'], learners: [] },
    entries,
  });
}

function drain(c: RaftCore): Message[] {
  if (!c.hasReady()) return [];
  const rd = c.ready();
  c.advance(rd);
  return rd.messages;
}

/** Elects node 1 of a two-member group with node 2's vote; returns the leader's first (probe) append. */
function elect(leader: RaftCore, follower: RaftCore): Message[] {
  leader.campaign();
  for (const m of drain(leader)) follower.step(m);
  for (const m of drain(follower)) leader.step(m);
  return drain(leader).filter((m) => m.type === 'app');
}

test('a new leader probes with one append, then pipelines up to maxInflightMsgs appends', (t) => {
  // 100-byte entries cost 124 bytes: one entry per append.
  const leader = member('1', { maxSizePerMsg: 124, maxInflightMsgs: 3 });
  const follower = member('2');
  const [probe] = elect(leader, follower);
  t.is(leader.status().progress!['2']!.state, 'probe');
  for (let i = 0; i < 5; i++) leader.propose(new Uint8Array(100));
  t.deepEqual(drain(leader), [], 'in probe, nothing more goes out until the probe is answered');

  follower.step(probe!);
  const [ack] = drain(follower);
  leader.step(ack!);
  t.is(leader.status().progress!['2']!.state, 'replicate');
  const apps = drain(leader).filter((m) => m.type === 'app');
  t.is(apps.length, 3, 'the window holds three appends');
  t.deepEqual(
    apps.map((m) => m.entries!.length),
    [1, 1, 1],
    'maxSizePerMsg limits each append to one entry',
  );
  t.deepEqual(
    apps.map((m) => m.index),
    [1, 2, 3],
    'pipelined: each append follows the previous without waiting',
  );

  // Acknowledging the first frees one slot: exactly one more append.
  follower.step(apps[0]!);
  for (const m of drain(follower)) leader.step(m);
  const more = drain(leader).filter((m) => m.type === 'app' && m.entries!.length > 0);
  t.is(more.length, 1);
  t.is(more[0]!.index, 4);
});

test('the inflight window is also bounded in bytes (maxInflightBytes)', (t) => {
  const leader = member('1', { maxSizePerMsg: 124, maxInflightMsgs: 100, maxInflightBytes: 300 });
  const follower = member('2');
  const [probe] = elect(leader, follower);
  follower.step(probe!);
  for (const m of drain(follower)) leader.step(m);
  drain(leader);
  for (let i = 0; i < 6; i++) leader.propose(new Uint8Array(100));
  // 124 bytes per append: the third append reaches 372 >= 300 bytes, then the window is full.
  t.is(drain(leader).filter((m) => m.type === 'app').length, 3);
});

test('appends batch as many entries as fit in maxSizePerMsg', (t) => {
  const leader = member('1', { maxSizePerMsg: 500, maxInflightMsgs: 8 });
  const follower = member('2');
  const [probe] = elect(leader, follower);
  follower.step(probe!);
  for (const m of drain(follower)) leader.step(m);
  drain(leader);
  for (let i = 0; i < 10; i++) leader.propose(new Uint8Array(100));
  const apps = drain(leader).filter((m) => m.type === 'app');
  const sent = apps.flatMap((m) => m.entries!.map((e) => e.index));
  t.deepEqual(sent, [2, 3, 4, 5, 6, 7, 8, 9], 'sent as they come, until the window of 8 is full');
  for (const m of apps) t.true(m.entries!.reduce((s, e) => s + e.data.length + 24, 0) <= 500);

  // A follower that fell behind gets the backlog in full batches: 4 entries of 124 bytes fit in 500.
  const lagging = member('1', { maxSizePerMsg: 500, maxInflightMsgs: 8 });
  const f2 = member('2');
  const [probe2] = elect(lagging, f2);
  for (let i = 0; i < 10; i++) lagging.propose(new Uint8Array(100));
  drain(lagging);
  f2.step(probe2!);
  for (const m of drain(f2)) lagging.step(m);
  const batches = drain(lagging).filter((m) => m.type === 'app');
  t.deepEqual(
    batches.map((m) => m.entries!.length),
    [4, 4, 2],
  );
});

test('fast backtracking: a rejected append skips a whole conflicting term per round trip', (t) => {
  // Figure 7 (f): the follower holds many entries of terms 2 and 3 the leader never had.
  const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6].map((term, i) => ent(i + 1, term));
  const followerLog = [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3].map((term, i) => ent(i + 1, term));
  const leader = member('1', {}, leaderLog, 6);
  const follower = member('2', {}, followerLog, 3);
  let inflight = elect(leader, follower);
  let rejections = 0;
  for (let round = 0; round < 20 && inflight.length > 0; round++) {
    for (const m of inflight) follower.step(m);
    const replies = drain(follower);
    rejections += replies.filter((m) => m.type === 'appResp' && m.reject).length;
    for (const m of replies) leader.step(m);
    inflight = drain(leader).filter((m) => m.type === 'app');
  }
  t.deepEqual(
    follower.log.slice(1, follower.log.lastIndex() + 1).map((e) => e.term),
    [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7],
  );
  // One entry at a time would need 8 rejections (index 11 down to 3); with hints: at most 2.
  t.true(rejections <= 2, `${rejections} rejections`);
});

test('a follower behind the compacted log gets a snapshot and stays paused until it is reported', (t) => {
  const voters = ['1', '2', '3'];
  const [leader, f2, f3] = voters.map(
    (id) =>
      new RaftCore(config(id, rng(3), { preVote: false, checkQuorum: false }), {
        hardState: { term: 0, vote: '', commit: 0 },
        conf: { voters, learners: [] },
        entries: [],
      }),
  ) as [RaftCore, RaftCore, RaftCore];
  // Node 2 votes and replicates; everything sent to node 3 is lost.
  const exchange = (): void => {
    for (let i = 0; i < 5; i++) {
      for (const m of drain(leader)) if (m.to === '2') f2.step(m);
      for (const m of drain(f2)) leader.step(m);
    }
  };
  leader.campaign();
  exchange();
  t.is(leader.role, 'leader');
  for (let i = 0; i < 5; i++) leader.propose(new Uint8Array(10));
  exchange();
  const last = leader.log.lastIndex();
  t.is(leader.log.committed, last);
  t.is(leader.status().applied, last);
  leader.compact({
    meta: { index: last, term: leader.term, conf: leader.status().conf },
    data: new Uint8Array([7]),
  });

  // Node 3 finally answers a heartbeat: its log is behind the compacted prefix, so it needs the snapshot.
  leader.tick();
  const hb = drain(leader).find((m) => m.to === '3' && m.type === 'heartbeat')!;
  f3.step(hb);
  for (const m of drain(f3)) leader.step(m);
  const snap = drain(leader).find((m) => m.type === 'snap');
  t.truthy(snap, 'a snapshot was sent');
  t.is(snap!.snapshot!.meta.index, last);
  t.is(leader.status().progress!['3']!.state, 'snapshot');
  leader.propose(new Uint8Array(1));
  t.false(
    drain(leader).some((m) => m.type === 'app' && m.to === '3'),
    'no appends to it while the snapshot is in flight',
  );

  // Installed: node 3 acknowledges the snapshot's index, and replication resumes from there.
  f3.step(snap!);
  const rd = f3.ready();
  t.is(rd.snapshot?.meta.index, last, 'the follower persists the snapshot');
  f3.advance(rd);
  leader.reportSnapshot('3', true);
  t.is(leader.status().progress!['3']!.state, 'probe');
  for (const m of rd.messages) leader.step(m);
  const resumed = drain(leader).filter((m) => m.type === 'app' && m.to === '3');
  t.is(resumed[0]?.index, last, 'the next append follows the snapshot');
});

test('a member whose configuration predates the leader still follows it and learns the configuration', (t) => {
  // Node 2 knows only {1, 2}; node 3 joined and won an election while 2 was away. Its appends must not be dropped.
  const lagging = member('2', {}, [ent(1, 1)], 1);
  lagging.step({ type: 'heartbeat', from: '3', to: '2', term: 3, logTerm: 0, index: 0, commit: 0 });
  t.is(lagging.status().lead, '3');
  t.is(lagging.status().term, 3);
  lagging.step({
    type: 'app',
    from: '3',
    to: '2',
    term: 3,
    logTerm: 1,
    index: 1,
    entries: [ent(2, 3)],
    commit: 2,
  });
  const ack = drain(lagging).find((m) => m.type === 'appResp');
  t.like(ack, { to: '3', index: 2 });
  t.falsy(ack!.reject);
  // A vote request from outside the configuration is still not heard, nor is a leader deposed from outside.
  lagging.step({ type: 'vote', from: '4', to: '2', term: 9, logTerm: 3, index: 5, commit: 0 });
  t.is(lagging.status().term, 3);
  const leader = member('1');
  leader.campaign();
  leader.step({ type: 'voteResp', from: '2', to: '1', term: 1, logTerm: 0, index: 0, commit: 0 });
  t.is(leader.status().role, 'leader');
  leader.step({ type: 'app', from: '4', to: '1', term: 9, logTerm: 0, index: 0, commit: 0 });
  t.is(leader.status().role, 'leader');
  t.is(leader.status().term, 1);
});
