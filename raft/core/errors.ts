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
