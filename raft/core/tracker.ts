// Who is in the configuration and what the leader knows about each member: voters, learners, per-member
// progress, votes of the current election, and the quorum arithmetic over them (etcd's raft/tracker).
import type { ConfChange, ConfState, MemberId } from '../types.js';
import { Progress } from './progress.js';

export type Tally = 'won' | 'lost' | 'pending';

export class ProgressTracker {
  private voterSet = new Set<MemberId>();
  private learnerSet = new Set<MemberId>();
  readonly progress = new Map<MemberId, Progress>();
  private votes = new Map<MemberId, boolean>();

  constructor(conf: ConfState) {
    this.setConf(conf);
  }

  /** Replaces the configuration (restart, snapshot install); progress is rebuilt by the next resetProgress. */
  setConf(conf: ConfState): void {
    this.voterSet = new Set(conf.voters);
    this.learnerSet = new Set(conf.learners.filter((l) => !this.voterSet.has(l)));
  }

  conf(): ConfState {
    return { voters: [...this.voterSet].sort(), learners: [...this.learnerSet].sort() };
  }

  isVoter(id: MemberId): boolean {
    return this.voterSet.has(id);
  }

  isMember(id: MemberId): boolean {
    return this.voterSet.has(id) || this.learnerSet.has(id);
  }

  voters(): MemberId[] {
    return [...this.voterSet];
  }

  voterCount(): number {
    return this.voterSet.size;
  }

  quorum(): number {
    return Math.floor(this.voterSet.size / 2) + 1;
  }

  /** Fresh progress for every member (a new term): everyone is probed from the end of our log. */
  resetProgress(lastIndex: number, self: MemberId): void {
    this.progress.clear();
    for (const id of [...this.voterSet, ...this.learnerSet])
      this.progress.set(id, new Progress(lastIndex + 1, this.learnerSet.has(id)));
    const own = this.progress.get(self);
    if (own) own.match = lastIndex;
  }

  // ---- elections ----

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: MemberId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tally(): Tally {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterSet) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    if (granted >= this.quorum()) return 'won';
    if (rejected >= this.quorum()) return 'lost';
    return 'pending';
  }

  // ---- leader bookkeeping ----

  /** The highest index that a quorum of voters has persisted (the leader counts its own last index). */
  quorumMatch(self: MemberId, selfLast: number): number {
    const matches = [...this.voterSet]
      .map((id) => (id === self ? selfLast : (this.progress.get(id)?.match ?? 0)))
      .sort((a, b) => b - a);
    return matches[this.quorum() - 1] ?? 0;
  }

  /** Check-quorum: were a quorum of voters heard from since the last call? Clears the marks for the next round. */
  quorumActive(self: MemberId): boolean {
    let active = 0;
    for (const id of this.voterSet) {
      const pr = this.progress.get(id);
      if (id === self || pr?.recentActive) active++;
      if (pr && id !== self) pr.recentActive = false;
    }
    return active >= this.quorum();
  }

  /** Applies a committed membership change; `lastIndex` seeds the progress of a new member. */
  apply(cc: ConfChange, lastIndex: number): void {
    if (cc.type === 'remove') {
      this.voterSet.delete(cc.id);
      this.learnerSet.delete(cc.id);
      this.progress.delete(cc.id);
      return;
    }
    const learner = cc.type === 'addLearner';
    // Demoting a voter to learner is not supported (etcd needs joint consensus for it): ignored.
    if (learner && this.voterSet.has(cc.id)) return;
    this.learnerSet.delete(cc.id);
    (learner ? this.learnerSet : this.voterSet).add(cc.id);
    const pr = this.progress.get(cc.id);
    if (!pr) this.progress.set(cc.id, new Progress(lastIndex + 1, learner));
    else if (!learner && pr.isLearner) {
      // Promotion keeps what the leader knows about the member's log.
      const promoted = new Progress(pr.next, false);
      promoted.match = pr.match;
      this.progress.set(cc.id, promoted);
    }
  }
}
