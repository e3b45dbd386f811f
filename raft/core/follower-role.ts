// The follower's side of replication: appends, heartbeats and snapshots from the leader it follows.
import type { Message } from '../types.js';
import { answerAppend, answerHeartbeat } from './follower.js';
import { RaftState } from './state.js';

const EMPTY = new Uint8Array(0);

export abstract class FollowerRole extends RaftState {
  protected stepFollower(m: Message): void {
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

  protected handleAppend(m: Message): void {
    this.send(answerAppend(this.log, m));
  }

  protected handleHeartbeat(m: Message): void {
    this.send(answerHeartbeat(this.log, m));
  }

  protected handleSnapshot(m: Message): void {
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
}
