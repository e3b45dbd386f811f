// The leader: replication to each member (probe / replicate / snapshot), commitment by counting, proposals,
// membership changes, leadership transfer and ReadIndex.
import { FailedPrecondition, Unavailable, encode } from '../../api/index.js';
import type { ConfChange, Entry, MemberId, Message } from '../types.js';
import { EntryType } from '../types.js';
import { NotLeaderError } from './errors.js';
import { FollowerRole } from './follower-role.js';
import type { Progress } from './progress.js';
import { entrySize } from './raft-log.js';
import type { PendingRead } from './read-only.js';

const EMPTY = new Uint8Array(0);

export abstract class LeaderRole extends FollowerRole {
  protected becomeLeader(): void {
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    // Conf changes in the uncommitted tail may not be proposed over; wait until all of it commits.
    this.pendingConfIndex = this.log.lastIndex();
    this.appendEntries([{ term: 0, index: 0, type: EntryType.Normal, data: EMPTY }]);
  }

  protected stepLeader(m: Message): void {
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

  protected maxInflightBytes(): number {
    return this.cfg.maxInflightBytes ?? this.cfg.maxInflightMsgs * this.cfg.maxSizePerMsg;
  }

  protected appendEntries(ents: Entry[]): void {
    let index = this.log.lastIndex();
    for (const e of ents) {
      e.term = this.term;
      e.index = ++index;
      this.uncommittedSize += entrySize(e);
    }
    this.log.append(ents);
    // The leader's own copy counts once it is on disk (selfPersisted), so the appends may go out first.
    this.bcastAppend();
  }

  /** The driver wrote the log up to `stable`: the leader's own copy now counts towards commitment. */
  protected selfPersisted(): void {
    this.tracker.progress.get(this.id)?.maybeUpdate(this.log.stable);
    if (this.maybeCommit()) this.bcastAppend();
  }

  /**
   * Commits the highest index a quorum of voters has on disk, if it is from the current term (Raft §5.4.2). The
   * leader's own entries count only up to what it has persisted (Raft thesis §10.2.1).
   */
  protected maybeCommit(): boolean {
    const n = this.tracker.quorumMatch(this.id, this.log.stable);
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

  protected bcastAppend(): void {
    for (const id of this.tracker.progress.keys()) if (id !== this.id) this.sendAppend(id);
  }

  protected bcastHeartbeat(ctx?: Uint8Array): void {
    for (const [id, pr] of this.tracker.progress) {
      if (id === this.id) continue;
      this.send({ type: 'heartbeat', to: id, commit: Math.min(pr.match, this.log.committed), context: ctx });
    }
  }

  /** Sends the next append (or a snapshot) to `to`; returns true when it sent entries and more remain. */
  protected sendAppend(to: MemberId, sendIfEmpty = true): boolean {
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

  protected sendSnapshot(to: MemberId, pr: Progress): boolean {
    if (!this.snapshot) return false;
    pr.becomeSnapshot(this.snapshot.meta.index);
    this.send({ type: 'snap', to, snapshot: this.snapshot });
    return false;
  }

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

  protected applyConfChange(cc: ConfChange): void {
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

  transferLeadership(to: MemberId): void {
    if (this.role !== 'leader') throw new NotLeaderError(this.lead);
    if (to === this.id || !this.tracker.isVoter(to)) return;
    this.leadTransferee = to;
    this.electionElapsed = 0;
    const pr = this.tracker.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) this.send({ type: 'timeoutNow', to });
    else this.sendAppend(to);
  }

  /** Requests a read index; the answer comes back in Ready.readStates with the same ctx. */
  readIndex(ctx: Uint8Array): void {
    if (this.role === 'leader') return this.handleReadIndex(ctx, '');
    if (!this.lead) throw new NotLeaderError('');
    this.send({ type: 'readIndex', to: this.lead, context: ctx });
  }

  protected handleReadIndex(ctx: Uint8Array, from: MemberId): void {
    // Until an entry of this term commits, the commit index may lag what earlier leaders committed.
    if (this.log.term(this.log.committed) !== this.term) return this.reads.defer(ctx, from);
    const index = this.log.committed;
    if (this.tracker.voterCount() === 1) return this.answerRead({ index, ctx, from, acks: new Set() });
    if (this.reads.add(index, ctx, from, this.id)) this.bcastHeartbeat(ctx);
  }

  protected releaseDeferredReads(): void {
    if (!this.reads.hasDeferred() || this.log.term(this.log.committed) !== this.term) return;
    for (const r of this.reads.takeDeferred()) this.handleReadIndex(r.ctx, r.from);
  }

  protected ackRead(ctx: Uint8Array, from: MemberId): void {
    if (!this.tracker.isVoter(from)) return;
    for (const r of this.reads.ack(ctx, from, this.tracker.quorum())) this.answerRead(r);
  }

  protected answerRead(r: PendingRead): void {
    if (r.from === '' || r.from === this.id) this.readStates.push({ index: r.index, requestCtx: r.ctx });
    else this.send({ type: 'readIndexResp', to: r.from, index: r.index, context: r.ctx });
  }

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
}
