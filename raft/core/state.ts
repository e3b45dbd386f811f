// The state every role shares, and the role transitions (etcd raft's reset/becomeX). The roles' behaviour is
// layered on top: follower-role.ts, leader-role.ts, then raft-core.ts (elections, the step entry point, Ready).
import type {
  ConfState,
  Entry,
  HardState,
  MemberId,
  Message,
  MessageType,
  RaftConfig,
  ReadState,
  Role,
  Snapshot,
  SoftState,
} from '../types.js';
import { InvalidArgument } from '../../api/index.js';
import { RaftLog } from './raft-log.js';
import { ReadOnly } from './read-only.js';
import { ProgressTracker } from './tracker.js';

export interface RestoreState {
  hardState: HardState;
  conf: ConfState;
  snapshot?: Snapshot;
  entries: Entry[];
}

export abstract class RaftState {
  readonly id: MemberId;
  term = 0;
  vote: MemberId | '' = '';
  lead: MemberId | '' = '';
  role: Role = 'follower';
  readonly log: RaftLog;
  protected readonly tracker: ProgressTracker;
  protected electionElapsed = 0;
  protected heartbeatElapsed = 0;
  protected randomizedElectionTimeout = 0;
  protected leadTransferee: MemberId | '' = '';
  protected pendingConfIndex = 0;
  protected uncommittedSize = 0;
  protected msgs: Message[] = [];
  protected readStates: ReadState[] = [];
  protected readonly reads = new ReadOnly();
  protected snapshot?: Snapshot;
  protected unstableSnapshot?: Snapshot;
  protected prevSoft: SoftState;
  protected prevHard: HardState;
  protected dropped = 0;

  constructor(
    protected readonly cfg: RaftConfig,
    restore: RestoreState,
  ) {
    this.id = cfg.id;
    const snapMeta = restore.snapshot?.meta;
    this.log = new RaftLog(
      { index: snapMeta?.index ?? 0, term: snapMeta?.term ?? 0 },
      checkedRestoreEntries(restore),
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

  protected hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  protected reset(term: number): void {
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

  protected becomeFollower(term: number, lead: MemberId | ''): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  protected becomePreCandidate(): void {
    // A pre-candidate changes neither term nor vote: a lost pre-election leaves no trace.
    this.role = 'preCandidate';
    this.tracker.resetVotes();
    this.lead = '';
  }

  protected becomeCandidate(): void {
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  protected send(m: Partial<Message> & { type: MessageType; to: MemberId }): void {
    this.msgs.push({ from: this.id, term: this.term, logTerm: 0, index: 0, commit: 0, ...m } as Message);
  }

  /** Starts an election (a transfer skips the pre-vote and any lease). */
  protected abstract hup(transfer: boolean): void;
}

/**
 * The entries after the snapshot, checked: contiguous from snapshot index + 1 and reaching the persisted commit
 * index. Entries the snapshot covers are skipped. A log's terms never decrease, so an entry whose term is below
 * its predecessor's (or the snapshot's) is a stale tail left behind by a snapshot install: it could never be
 * committed and is dropped with everything after it, as installing the snapshot did in memory.
 */
function checkedRestoreEntries(r: RestoreState): Entry[] {
  const snapIndex = r.snapshot?.meta.index ?? 0;
  let prevTerm = r.snapshot?.meta.term ?? 0;
  const entries = r.entries.filter((e) => e.index > snapIndex);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.index !== snapIndex + 1 + i)
      throw new InvalidArgument(
        `raft restore: entry ${i} has index ${e.index}, expected ${snapIndex + 1 + i}`,
      );
    if (e.term < prevTerm) {
      entries.length = i;
      break;
    }
    prevTerm = e.term;
  }
  const last = snapIndex + entries.length;
  if (r.hardState.commit > last)
    throw new InvalidArgument(
      `raft restore: commit index ${r.hardState.commit} is beyond the last entry ${last} (log lost or truncated)`,
    );
  return entries;
}
