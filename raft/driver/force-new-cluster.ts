// Force-new-cluster: rewrite a restored log so this node is the only voter, without losing committed data.
// Pure: the driver persists the returned entries (they replace any uncommitted tail in the WAL) before the
// core starts. The removals are committed entries, so every later restart replays the same membership.
import { encode, decode, FailedPrecondition } from '../../api/index.js';
import {
  EntryType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type MemberId,
  type Snapshot,
} from '../types.js';

export interface ForcedLog {
  hardState: HardState;
  /** The full log to restore from (committed entries + the appended ones). */
  entries: Entry[];
  /** Only the new entries, to be written to the WAL. */
  appended: Entry[];
}

/** Membership after the snapshot and every committed conf change, as the core will compute it. */
export function committedConf(snapshot: Snapshot | undefined, committed: Entry[]): ConfState {
  const voters = new Set(snapshot?.meta.conf.voters ?? []);
  const learners = new Set(snapshot?.meta.conf.learners ?? []);
  for (const e of committed) {
    if (e.type !== EntryType.ConfChange) continue;
    const cc = decode<ConfChange>(e.data);
    if (cc.type === 'remove') {
      voters.delete(cc.id);
      learners.delete(cc.id);
    } else if (cc.type === 'addLearner') {
      if (!voters.has(cc.id)) learners.add(cc.id);
    } else {
      learners.delete(cc.id);
      voters.add(cc.id);
    }
  }
  return { voters: [...voters], learners: [...learners] };
}

export function forceSingleMember(
  self: MemberId,
  snapshot: Snapshot | undefined,
  hardState: HardState,
  entries: Entry[],
): ForcedLog {
  const base = snapshot?.meta.index ?? 0;
  if (base === 0 && hardState.commit === 0) {
    throw new FailedPrecondition('force-new-cluster needs an existing Raft log; this node has none');
  }
  const committed = entries.filter((e) => e.index <= hardState.commit);
  const conf = committedConf(snapshot, committed);
  const term = hardState.term;
  let index = committed.length ? committed[committed.length - 1].index : base;
  // Promote ourselves first so the membership never passes through zero voters.
  const changes: ConfChange[] = conf.voters.includes(self) ? [] : [{ type: 'addVoter', id: self }];
  for (const id of [...conf.voters, ...conf.learners]) if (id !== self) changes.push({ type: 'remove', id });
  const appended: Entry[] = changes.map((cc) => ({
    term,
    index: ++index,
    type: EntryType.ConfChange,
    data: encode(cc),
  }));
  // Always append something, so an uncommitted tail in the WAL is replaced even when no change is needed.
  if (appended.length === 0)
    appended.push({ term, index: ++index, type: EntryType.Normal, data: new Uint8Array() });
  return {
    hardState: { term, vote: hardState.vote, commit: index },
    entries: [...committed, ...appended],
    appended,
  };
}
