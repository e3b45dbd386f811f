// The Raft consensus core: a deterministic state machine with no I/O and no timers (etcd raft's design).
// Callers feed it ticks, messages and proposals, then drain ready(): persist, send, apply, advance().
import { InvalidArgument, decode } from '../../api/index.js';
import type {
  ConfChange,
  ConfState,
  HardState,
  MemberId,
  Message,
  MessageType,
  Ready,
  Role,
  Snapshot,
  SoftState,
} from '../types.js';
import { EntryType } from '../types.js';
import { coalesce } from './coalesce.js';
import { grantsVote } from './follower.js';
import { LeaderRole } from './leader-role.js';
import { isWellFormed } from './validate.js';

export type { RestoreState } from './state.js';

const CAMPAIGN_TRANSFER = new Uint8Array([1]);
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

export class RaftCore extends LeaderRole {
  tick(): void {
    if (this.role === 'leader') return this.tickLeader();
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout && this.tracker.isVoter(this.id)) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  protected tickLeader(): void {
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

  /** Starts an election now (tests, transfers, forced recovery). */
  campaign(): void {
    this.hup(false);
  }

  protected hup(transfer: boolean): void {
    if (this.role === 'leader' || !this.tracker.isVoter(this.id)) return;
    // Conf changes committed but not yet applied could change who may vote: wait until they are applied.
    const pending = this.log
      .slice(this.log.applied + 1, this.log.committed + 1)
      .some((e) => e.type === EntryType.ConfChange);
    if (pending) return;
    if (this.cfg.preVote && !transfer) this.startElection('preVote');
    else this.startElection('vote', transfer);
  }

  protected startElection(kind: 'preVote' | 'vote', transfer = false): void {
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

  protected wonElection(kind: 'preVote' | 'vote'): void {
    if (kind === 'preVote') this.startElection('vote');
    else this.becomeLeader();
  }

  step(m: Message): void {
    if (!isWellFormed(m) || m.to !== this.id) {
      this.dropped++;
      return;
    }
    // Messages from outside the configuration are dropped, unless this node is not a member itself yet (a new
    // member learns the configuration from the leader's log or snapshot) or they are a leader's and this node
    // does not lead: a member that missed the change adding that leader learns it the same way (dropping them
    // left it campaigning forever). A leader is never deposed from outside its configuration (check-quorum
    // steps a stale one down).
    const fromLeader =
      (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap') && this.role !== 'leader';
    if (!fromLeader && !this.tracker.isMember(m.from) && this.tracker.isMember(this.id)) {
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

  protected handleVoteRequest(m: Message): void {
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

  protected stepCandidate(m: Message): void {
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
      messages: coalesce(this.msgs, this.cfg.maxSizePerMsg),
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
    if (last && this.log.term(last.index) === last.term) {
      this.log.stableTo(last.index);
      if (this.role === 'leader') this.selfPersisted();
    }
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
