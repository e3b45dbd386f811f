// Pure decisions about the Raft group of managers, from the members, the nodes' desired roles and who is
// reachable. The leader applies them one change at a time.
import type { Node } from '../../api/index.js';

export interface RaftView {
  self: string;
  voters: string[];
  learners: string[];
  /** Members the leader heard from recently (itself included). */
  reachable: Set<string>;
  /** Learners expected to become voters soon: heard from recently, or added too recently to have answered. */
  joining: Set<string>;
}

export type MembershipStep =
  | { kind: 'remove'; id: string; why: string }
  | { kind: 'transfer-leadership'; why: string }
  | { kind: 'none' };

/**
 * Removing `id` must leave enough reachable voters for the smaller group's quorum (Swarm's CanRemoveMember).
 * Removing an unreachable member never makes things worse.
 */
export function canRemoveMember(voters: string[], reachable: Set<string>, id: string): boolean {
  const rest = voters.filter((v) => v !== id);
  const up = rest.filter((v) => reachable.has(v)).length;
  return up >= Math.floor(rest.length / 2) + 1;
}

/**
 * The next membership change: members whose node is gone (`node rm --force`) or demoted leave the group.
 * A live voter leaves only once no joining manager is still a learner: `node promote` then `node demote` must
 * end with the promoted node voting, or the group is one voter short of what `node ls` shows.
 */
export function nextMembershipStep(raft: RaftView, nodes: Map<string, Node>): MembershipStep {
  const promotionPending = raft.learners.some(
    (l) => raft.joining.has(l) && nodes.get(l)?.Spec.Role === 'manager',
  );
  for (const id of [...raft.learners, ...raft.voters]) {
    const node = nodes.get(id);
    const why = !node ? 'node removed' : node.Spec.Role === 'worker' ? 'node demoted' : '';
    if (!why) continue;
    if (id === raft.self) {
      // The leader cannot remove itself cleanly: it hands leadership over, and the next leader removes it.
      if (raft.voters.some((v) => v !== id && raft.reachable.has(v)))
        return { kind: 'transfer-leadership', why };
      continue;
    }
    if (raft.learners.includes(id)) return { kind: 'remove', id, why };
    if (promotionPending && raft.reachable.has(id)) continue;
    if (canRemoveMember(raft.voters, raft.reachable, id)) return { kind: 'remove', id, why };
  }
  return { kind: 'none' };
}

/**
 * ManagerStatus as the leader sees it: Reachability of members, Leader on itself alone, and none for demoted
 * nodes that have left the group. Returns the node objects to rewrite.
 */
export function managerStatusChanges(raft: RaftView, nodes: Iterable<Node>): Node[] {
  const changed: Node[] = [];
  const members = new Set([...raft.voters, ...raft.learners]);
  for (const n of nodes) {
    if (!n.ManagerStatus) continue;
    if (!members.has(n.ID)) {
      // Demoted and gone: no longer a manager. Still meant to be one (e.g. after --force-new-cluster): unreachable.
      if (n.Spec.Role === 'worker') changed.push({ ...n, ManagerStatus: undefined });
      else if (n.ManagerStatus.Reachability !== 'unreachable')
        changed.push({
          ...n,
          ManagerStatus: { ...n.ManagerStatus, Reachability: 'unreachable', Leader: false },
        });
      continue;
    }
    const want = raft.reachable.has(n.ID) ? 'reachable' : 'unreachable';
    const leader = n.ID === raft.self;
    if (n.ManagerStatus.Reachability !== want || n.ManagerStatus.Leader !== leader)
      changed.push({ ...n, ManagerStatus: { ...n.ManagerStatus, Reachability: want, Leader: leader } });
  }
  return changed;
}
