// The receiving side of replication and elections as pure decisions over the local log: each function returns
// the reply to send (the core stamps from/term and sends it).
import type { Message, MemberId } from '../types.js';
import type { RaftLog } from './raft-log.js';

export type Reply = Partial<Message> & Pick<Message, 'type' | 'to'>;

/** AppendEntries (Raft §5.3): append when the previous entry matches, else reject with a backtracking hint. */
export function answerAppend(log: RaftLog, m: Message): Reply {
  if (m.index < log.committed) {
    // Everything up to our commit index is already known to match: tell the leader where we are.
    return { type: 'appResp', to: m.from, index: log.committed };
  }
  const lastNew = log.maybeAppend(m.index, m.logTerm, m.commit, m.entries ?? []);
  if (lastNew !== undefined) return { type: 'appResp', to: m.from, index: lastNew };
  // Fast backtracking: the last entry whose term is <= the leader's term at m.index is the first place our
  // logs can agree; with its term, the leader can skip a whole term of mismatches in one round trip.
  const hintIndex = log.findConflictByTerm(Math.min(m.index, log.lastIndex()), m.logTerm);
  return {
    type: 'appResp',
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hintIndex,
    logTerm: log.term(hintIndex) ?? 0,
  };
}

/** A heartbeat carries the commit index, capped by the leader at what this follower is known to have. */
export function answerHeartbeat(log: RaftLog, m: Message): Reply {
  log.commitTo(m.commit);
  return { type: 'heartbeatResp', to: m.from, context: m.context };
}

export interface VoteView {
  term: number;
  vote: MemberId | '';
  lead: MemberId | '';
  log: RaftLog;
  isVoter: (id: MemberId) => boolean;
}

/**
 * Grant a (pre-)vote when we have not voted for someone else in this term (a pre-vote for a future term is
 * always free) and the candidate's log is at least as up to date as ours (Raft §5.4.1).
 */
export function grantsVote(v: VoteView, m: Message): boolean {
  const free =
    v.vote === m.from || (v.vote === '' && v.lead === '') || (m.type === 'preVote' && m.term > v.term);
  return free && v.isVoter(m.from) && v.log.isUpToDate(m.index, m.logTerm);
}
