// Errors the core raises to its callers.
import { Unavailable } from '../../api/index.js';
import type { MemberId } from '../types.js';

/** Not the leader: proposals and conf changes go to the leader (the hint, when one is known). */
export class NotLeaderError extends Unavailable {
  constructor(readonly leaderHint: MemberId | '') {
    super(
      leaderHint
        ? `not the leader (leader is ${leaderHint})`
        : 'no leader: the cluster has no elected leader (quorum lost or election in progress)',
    );
  }
}

/**
 * A proposal this member appended while leading, still uncommitted when it lost leadership: the next leader may
 * commit it or drop it, so the caller must not take it as refused (unlike NotLeaderError, raised before).
 */
export class OutcomeUnknownError extends Unavailable {
  constructor() {
    super('leadership changed before the proposal committed: it may or may not be applied');
  }
}
