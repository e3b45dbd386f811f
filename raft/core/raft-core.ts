// The Raft consensus core: a deterministic state machine with no I/O and no timers (etcd raft's design).
// Callers feed it ticks, messages and proposals, then drain ready(): persist, send, apply, advance().
import { FailedPrecondition, InvalidArgument, Unavailable, decode, encode } from '../../api/index.js';
import type {
  ConfChange,
  ConfState,
  Entry,
  HardState,
  MemberId,
  Message,
  MessageType,
  RaftConfig,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SoftState,
} from '../types.js';
import { EntryType } from '../types.js';
import { NotLeaderError } from './errors.js';
import { answerAppend, answerHeartbeat, grantsVote } from './follower.js';
import type { Progress } from './progress.js';
import { RaftLog, entrySize } from './raft-log.js';
import { ReadOnly, type PendingRead } from './read-only.js';
import { ProgressTracker } from './tracker.js';
import { isWellFormed } from './validate.js';

export interface RestoreState {
  hardState: HardState;
  conf: ConfState;
  snapshot?: Snapshot;
  entries: Entry[];
}

const CAMPAIGN_TRANSFER = new Uint8Array([1]);
const EMPTY = new Uint8Array(0);
const isTransferCampaign = (ctx: Uint8Array | undefined): boolean =>
  ctx !== undefined && ctx.length === 1 && ctx[0] === CAMPAIGN_TRANSFER[0];

export interface RaftStatus {
  id: MemberId;
  term: number;
  vote: string;
  commit: number;
  applied: number;
  lead: MemberId | '';
  role: Role;
  conf: ConfState;
  progress?: Record<MemberId, { match: number; next: number; state: 'probe' | 'replicate' | 'snapshot' }>;
}

export class RaftCore {
  readonly id: MemberId;
  term = 0;
  vote: MemberId | '' = '';
  lead: MemberId | '' = '';
  role: Role = 'follower';
  readonly log: RaftLog;
  private readonly tracker: ProgressTracker;
  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  private leadTransferee: MemberId | '' = '';
  private pendingConfIndex = 0;
  private uncommittedSize = 0;
  private msgs: Message[] = [];
  private readStates: ReadState[] = [];
  private readonly reads = new ReadOnly();
  private snapshot?: Snapshot;
  private unstableSnapshot?: Snapshot;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private dropped = 0;

  constructor(
    private readonly cfg: RaftConfig,
    restore: RestoreState,
  ) {
    this.id = cfg.id;
    const snapMeta = restore.snapshot?.meta;
    this.log = new RaftLog(
      { index: snapMeta?.index ?? 0, term: snapMeta?.term ?? 0 },
      restore.entries.slice(),
      restore.hardState.commit,
    );
    this.snapshot = restore.snapshot;
    this.tracker = new ProgressTracker(snapMeta?.conf ?? restore.conf);
    this.term = restore.hardState.term;
    this.vote = restore.hardState.vote;
    this.becomeFollower(this.term, '');
    this.prevSoft = { leader: this.lead, role: this.role };
    this.prevHard = this.hardState();
  }

  get droppedMessages(): number {
    return this.dropped;
  }

  private hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  // ---- role changes ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = '';
    }
    this.lead = '';
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.randomizedElectionTimeout =
      this.cfg.electionTick + Math.floor(this.cfg.random() * this.cfg.electionTick);
    this.tracker.resetVotes();
    this.leadTransferee = '';
    this.reads.reset();
    this.uncommittedSize = 0;
    this.tracker.resetProgress(this.log.lastIndex(), this.id);
  }

  private becomeFollower(term: number, lead: MemberId | ''): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    // A pre-candidate changes neither term nor vote: a lost pre-election leaves no trace.
    this.role = 'preCandidate';
    this.tracker.resetVotes();
    this.lead = '';
  }

  private becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    // Conf changes in the uncommitted tail may not be proposed over; wait until all of it commits.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY }]);
  }

  // ---- time ----

  tick(): void {
    if (this.role === 'leader') return this.tickLeader();
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.tracker.isVoter(this.id)) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum && !this.tracker.quorumActive(this.id)) {
        this.becomeFollower(this.term, '');
        return;
      }
      // A transfer that did not finish within an election timeout is abandoned.
      this.leadTransferee = '';
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  // ---- elections ----

  /** Starts an election now (tests, transfers, forced recovery). */
  campaign(): void {
    this.hup(false);
  }

  private hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.tracker.isVoter(this.id)) return;
    // Conf changes committed but not yet applied could change who may vote: wait until they are applied.
    const pending = this.log
      .slice(this.log.applied + 1, this.log.committed + 1)
      .some((e) => e.type === EntryType.ConfChange);
    if (pending) return;
    if (this.cfg.preVote && !transfer) this.startElection('preVote');
    else this.startElection('vote', transfer);
  }

  private startElection(kind: 'preVote' | 'vote', transfer = false): void {
    if (kind === 'preVote') this.becomePreCandidate();
    else this.becomeCandidate();
    const term = kind === 'preVote' ? this.term + 1 : this.term;
    this.tracker.recordVote(this.id, true);
    if (this.tracker.tally() === 'won') return this.wonElection(kind);
    for (const id of this.tracker.voters()) {
      if (id === this.id) continue;
      this.send({
        type: kind,
        to: id,
        term,
        index: this.log.lastIndex(),
        logTerm: this.log.lastTerm(),
        context: transfer ? CAMPAIGN_TRANSFER : undefined,
      });
    }
  }

  private wonElection(kind: 'preVote' | 'vote'): void {
    if (kind === 'preVote') this.startElection('vote');
    else this.becomeLeader();
  }

  // ---- the message entry point ----

  step(m: Message): void {
    if (!isWellFormed(m) || m.to !== this.id) {
      this.dropped++;
      return;
    }
    // Messages from outside the configuration are dropped, unless this node is not a member itself yet
    // (a new member learns the configuration from the leader's log or snapshot).
    if (!this.tracker.isMember(m.from) && this.tracker.isMember(this.id)) {
      this.dropped++;
      return;
    }
    if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const forced = isTransferCampaign(m.context);
        const inLease =
          this.cfg.checkQuorum && this.lead !== '' && this.electionElapsed < this.cfg.electionTick;
        if (!forced && inLease) {
          // A healthy leader was heard from recently: this candidate cannot win, and must not disrupt.
          this.dropped++;
          return;
        }
      }
      if (m.type === 'preVote') {
        // Never change term for a pre-vote.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // A granted pre-vote carries the future term; the term changes only when the real election starts.
      } else {
        const lead = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap' ? m.from : '';
        this.becomeFollower(m.term, lead);
      }
    } else if (m.term < this.term) {
      if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // Tell a stale leader about the newer term so it steps down (it may be partitioned from the rest).
        this.send({ type: 'appResp', to: m.from });
      } else if (m.type === 'preVote') {
        this.send({ type: 'preVoteResp', to: m.from, reject: true });
      } else {
        this.dropped++;
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'preVote') return this.handleVoteRequest(m);
    switch (this.role) {
      case 'leader':
        return this.stepLeader(m);
      case 'candidate':
      case 'preCandidate':
        return this.stepCandidate(m);
      default:
        return this.stepFollower(m);
    }
  }

  private handleVoteRequest(m: Message): void {
    const respType: MessageType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    const view = {
      term: this.term,
      vote: this.vote,
      lead: this.lead,
      log: this.log,
      isVoter: (id: MemberId) => this.tracker.isVoter(id),
    };
    if (grantsVote(view, m)) {
      this.send({ type: respType, to: m.from, term: m.term });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, to: m.from, reject: true });
    }
  }

  private stepCandidate(m: Message): void {
    const myResp: MessageType = this.role === 'preCandidate' ? 'preVoteResp' : 'voteResp';
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        return this.handleAppend(m);
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        return this.handleHeartbeat(m);
      case 'snap':
        this.becomeFollower(m.term, m.from);
        return this.handleSnapshot(m);
      case myResp: {
        this.tracker.recordVote(m.from, !m.reject);
        const result = this.tracker.tally();
        if (result === 'won') this.wonElection(this.role === 'preCandidate' ? 'preVote' : 'vote');
        else if (result === 'lost') this.becomeFollower(this.term, '');
        return;
      }
      case 'timeoutNow':
      default:
        this.dropped++;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleAppend(m);
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleHeartbeat(m);
      case 'snap':
        this.electionElapsed = 0;
        this.lead = m.from;
        return this.handleSnapshot(m);
      case 'timeoutNow':
        // The leader hands over: campaign at once, without a pre-vote and past any lease.
        return this.hup(true);
      case 'readIndexResp':
        this.readStates.push({ index: m.index, requestCtx: m.context ?? EMPTY });
        return;
      default:
        this.dropped++;
    }
  }

  // ---- follower side of replication ----

  private handleAppend(m: Message): void {
    this.send(answerAppend(this.log, m));
  }

  private handleHeartbeat(m: Message): void {
    this.send(answerHeartbeat(this.log, m));
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot!;
    const { index, term } = snap.meta;
    if (index <= this.log.committed || this.log.matchTerm(index, term)) {
      // Already have it: keep our log, just move the commit mark.
      this.log.commitTo(index);
      this.send({ type: 'appResp', to: m.from, index: this.log.committed });
      return;
    }
    this.log.restore(snap.meta);
    this.tracker.setConf(snap.meta.conf);
    this.snapshot = snap;
    this.unstableSnapshot = snap;
    this.send({ type: 'appResp', to: m.from, index: this.log.lastIndex() });
  }

  // ---- leader side ----

  private stepLeader(m: Message): void {
    if (m.type === 'readIndex') return this.handleReadIndex(m.context ?? EMPTY, m.from);
    const pr = this.tracker.progress.get(m.from);
    if (!pr) {
      this.dropped++;
      return;
    }
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true;
        if (m.reject) {
          const hint =
            m.logTerm > 0 ? this.log.findConflictByTerm(m.rejectHint ?? 0, m.logTerm) : (m.rejectHint ?? 0);
          if (pr.maybeDecrTo(m.index, hint)) {
            if (pr.state === 'replicate') pr.becomeProbe();
            this.sendAppend(m.from);
          }
          return;
        }
        {
          const wasPaused = pr.isPaused(this.cfg.maxInflightMsgs, this.maxInflightBytes());
          if (!pr.maybeUpdate(m.index)) return;
          if (pr.state === 'probe') pr.becomeReplicate();
          else if (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot) pr.becomeProbe();
          else if (pr.state === 'replicate') pr.freeInflightTo(m.index);
          if (this.maybeCommit()) this.bcastAppend();
          else if (wasPaused) this.sendAppend(m.from);
          // Keep streaming while there is more to send.
          while (this.sendAppend(m.from, false));
          if (m.from === this.leadTransferee && pr.match === this.log.lastIndex())
            this.send({ type: 'timeoutNow', to: m.from });
        }
        return;
      case 'heartbeatResp':
        pr.recentActive = true;
        pr.probeSent = false;
        if (pr.isFull(this.cfg.maxInflightMsgs, this.maxInflightBytes())) pr.freeFirstInflight();
        if (pr.match < this.log.lastIndex()) this.sendAppend(m.from);
        if (m.context) this.ackRead(m.context, m.from);
        return;
      default:
        this.dropped++;
    }
  }

  private maxInflightBytes(): number {
    return this.cfg.maxInflightMsgs * this.cfg.maxSizePerMsg;
  }

  private appendEntries(ents: Entry[]): void {
    let index = this.log.lastIndex();
    for (const e of ents) {
      e.term = this.term;
      e.index = ++index;
      this.uncommittedSize += entrySize(e);
    }
    this.log.append(ents);
    this.tracker.progress.get(this.id)?.maybeUpdate(this.log.lastIndex());
    // A single voter commits at once; otherwise the followers' acknowledgements will.
    this.maybeCommit();
    this.bcastAppend();
  }

  /** Commits the highest index a quorum of voters has, if it is from the current term (Raft §5.4.2). */
  private maybeCommit(): boolean {
    const n = this.tracker.quorumMatch(this.id, this.log.lastIndex());
    if (n > this.log.committed && this.log.term(n) === this.term) {
      const before = this.log.committed;
      this.log.commitTo(n);
      for (const e of this.log.slice(before + 1, n + 1))
        this.uncommittedSize = Math.max(0, this.uncommittedSize - entrySize(e));
      this.releaseDeferredReads();
      return true;
    }
    return false;
  }

  private bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  private bcastHeartbeat(ctx?: Uint8Array): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), context: ctx });
    }
  }

  /** Sends the next append (or a snapshot) to `to`; returns true when it sent entries and more remain. */
  private sendAppend(to: MemberId, sendIfEmpty = true): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isPaused(this.cfg.maxInflightMsgs, this.maxInflightBytes())) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) return this.sendSnapshot(to, pr);
    const ents = this.log.slice(pr.next, this.log.lastIndex() + 1, this.cfg.maxSizePerMsg);
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send({
      type: 'app',
      to,
      index: prevIndex,
      logTerm: prevTerm,
      entries: ents,
      commit: this.log.committed,
    });
    pr.sentAppend(
      prevIndex + ents.length,
      ents.reduce((s, e) => s + entrySize(e), 0),
      ents.length,
    );
    return ents.length > 0 && pr.state === 'replicate' && pr.next <= this.log.lastIndex();
  }

  private sendSnapshot(to: MemberId, pr: Progress): boolean {
    if (!this.snapshot) return false;
    pr.becomeSnapshot(this.snapshot.meta.index);
    this.send({ type: 'snap', to, snapshot: this.snapshot });
    return false;
  }

  // ---- proposals ----

  /** Appends `data` to the log when leader; returns its index. */
  propose(data: Uint8Array): number {
    if (this.role !== 'leader') throw new NotLeaderError(this.lead);
    if (this.leadTransferee)
      throw new Unavailable(`leadership transfer to ${this.leadTransferee} in progress`);
    const e: Entry = { term: 0, index: 0, type: EntryType.Normal, data };
    if (
      this.uncommittedSize > 0 &&
      this.uncommittedSize + entrySize(e) > this.cfg.maxUncommittedEntriesSize
    ) {
      throw new Unavailable('too many uncommitted entries: proposal dropped');
    }
    this.appendEntries([e]);
    return e.index;
  }

  /** Proposes one membership change; one at a time. Returns its index. */
  proposeConfChange(cc: ConfChange): number {
    if (this.role !== 'leader') throw new NotLeaderError(this.lead);
    if (this.pendingConfIndex > this.log.applied) {
      throw new FailedPrecondition(
        'a configuration change is already in progress; retry when it has been applied',
      );
    }
    if (this.leadTransferee)
      throw new Unavailable(`leadership transfer to ${this.leadTransferee} in progress`);
    const e: Entry = { term: 0, index: 0, type: EntryType.ConfChange, data: encode(cc) };
    this.appendEntries([e]);
    this.pendingConfIndex = e.index;
    return e.index;
  }

  private applyConfChange(cc: ConfChange): void {
    this.tracker.apply(cc, this.log.lastIndex());
    if (this.role !== 'leader') return;
    if (cc.type === 'remove' && cc.id === this.id) {
      // The removed leader steps down once the change is committed; the rest elect a new leader.
      this.becomeFollower(this.term, '');
      return;
    }
    if (cc.type === 'remove' && cc.id === this.leadTransferee) this.leadTransferee = '';
    // The quorum changed: a removal may commit entries at once, an addition needs the log sent.
    this.maybeCommit();
    this.bcastAppend();
  }

  // ---- leadership transfer ----

  transferLeadership(to: MemberId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.lead);
    if (to === this.id || !this.tracker.isVoter(to)) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.tracker.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to });
    else this.sendAppend(to);
  }

  // ---- linearizable reads ----

  /** Requests a read index; the answer comes back in Ready.readStates with the same ctx. */
  readIndex(ctx: Uint8Array): void {
    if (this.role === 'leader') return this.handleReadIndex(ctx, '');
    if (!this.lead) throw new NotLeaderError('');
    this.send({ type: 'readIndex', to: this.lead, context: ctx });
  }

  private handleReadIndex(ctx: Uint8Array, from: MemberId): void {
    // Until an entry of this term commits, the commit index may lag what earlier leaders committed.
    if (this.log.term(this.log.committed) !== this.term) return this.reads.defer(ctx, from);
    const index = this.log.committed;
    if (this.tracker.voterCount() === 1) return this.answerRead({ index, ctx, from, acks: new Set() });
    if (this.reads.add(index, ctx, from, this.id)) this.bcastHeartbeat(ctx);
  }

  private releaseDeferredReads(): void {
    if (!this.reads.hasDeferred() || this.log.term(this.log.committed) !== this.term) return;
    for (const r of this.reads.takeDeferred()) this.handleReadIndex(r.ctx, r.from);
  }

  private ackRead(ctx: Uint8Array, from: MemberId): void {
    if (!this.tracker.isVoter(from)) return;
    for (const r of this.reads.ack(ctx, from, this.tracker.quorum())) this.answerRead(r);
  }

  private answerRead(r: PendingRead): void {
    if (r.from === '' || r.from === this.id) this.readStates.push({ index: r.index, requestCtx: r.ctx });
    else this.send({ type: 'readIndexResp', to: r.from, index: r.index, context: r.ctx });
  }

  // ---- feedback from the driver ----

  reportUnreachable(id: MemberId): void {
    const pr = this.tracker.progress.get(id);
    if (this.role === 'leader' && pr?.state === 'replicate') pr.becomeProbe();
  }

  reportSnapshot(id: MemberId, ok: boolean): void {
    const pr = this.tracker.progress.get(id);
    if (this.role !== 'leader' || pr?.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true; // wait for the follower's answer (or a heartbeat response) before probing again
  }

  /** Keeps `snapshot` (taken by the state machine at an applied index) and drops the log up to it. */
  compact(snapshot: Snapshot): void {
    const { index, term } = snapshot.meta;
    if (index <= this.log.snapIndex) return; // older than what we have: nothing to do
    if (index > this.log.applied)
      throw new InvalidArgument(
        `raft: snapshot at index ${index} is beyond the applied index ${this.log.applied}`,
      );
    if (this.log.term(index) !== term)
      throw new InvalidArgument(
        `raft: snapshot at index ${index} has term ${term}, the log has term ${this.log.term(index)} there`,
      );
    this.log.compact(index, term);
    this.snapshot = snapshot;
  }

  // ---- output ----

  private send(m: Partial<Message> & { type: MessageType; to: MemberId }): void {
    this.msgs.push({ from: this.id, term: this.term, logTerm: 0, index: 0, commit: 0, ...m } as Message);
  }

  hasReady(): boolean {
    return (
      this.msgs.length > 0 ||
      this.readStates.length > 0 ||
      this.log.unstable().length > 0 ||
      this.log.committed > this.log.applied ||
      this.unstableSnapshot !== undefined ||
      this.prevSoft.leader !== this.lead ||
      this.prevSoft.role !== this.role ||
      !sameHard(this.prevHard, this.hardState())
    );
  }

  ready(): Ready {
    const hard = this.hardState();
    const soft: SoftState = { leader: this.lead, role: this.role };
    const entries = this.log.unstable();
    const committedEntries = this.log.slice(
      this.log.applied + 1,
      Math.min(this.log.committed, this.log.stable + entries.length) + 1,
    );
    // Membership changes take effect as they are handed out for applying.
    for (const e of committedEntries)
      if (e.type === EntryType.ConfChange) this.applyConfChange(decode<ConfChange>(e.data));
    const hardChanged = !sameHard(this.prevHard, hard);
    const rd: Ready = {
      softState: soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      entries,
      snapshot: this.unstableSnapshot,
      committedEntries,
      messages: this.msgs,
      readStates: this.readStates,
      mustSync:
        entries.length > 0 ||
        (hardChanged && (hard.term !== this.prevHard.term || hard.vote !== this.prevHard.vote)),
    };
    this.msgs = [];
    this.readStates = [];
    return rd;
  }

  advance(rd: Ready): void {
    if (rd.softState) this.prevSoft = rd.softState;
    if (rd.hardState) this.prevHard = rd.hardState;
    if (rd.snapshot && rd.snapshot === this.unstableSnapshot) this.unstableSnapshot = undefined;
    const last = rd.entries[rd.entries.length - 1];
    if (last && this.log.term(last.index) === last.term) this.log.stableTo(last.index);
    const applied = rd.committedEntries[rd.committedEntries.length - 1];
    if (applied) this.log.applied = Math.max(this.log.applied, applied.index);
  }

  status(): RaftStatus {
    const s: RaftStatus = {
      id: this.id,
      term: this.term,
      vote: this.vote,
      commit: this.log.committed,
      applied: this.log.applied,
      lead: this.lead,
      role: this.role,
      conf: this.tracker.conf(),
    };
    if (this.role !== 'leader') return s;
    const progress: NonNullable<RaftStatus['progress']> = {};
    for (const [id, pr] of this.tracker.progress)
      progress[id] = { match: pr.match, next: pr.next, state: pr.state };
    return { ...s, progress };
  }
}

function sameHard(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
