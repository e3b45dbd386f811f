// Leader-only: keeps the Raft group in line with the nodes' desired roles (demotions, `node rm --force` of a
// manager) and keeps the managers' ManagerStatus.Reachability true. One membership change at a time.
import { createLogger, errorMessage, type Logger, type Node } from '../../api/index.js';
import type { RaftNode } from '../../raft/index.js';
import type { MemoryStore } from '../store/index.js';
import { managerStatusChanges, nextMembershipStep, type RaftView } from './plan.js';

const PERIOD_MS = 500;
/** A member not heard from for this long counts as unreachable (ten heartbeats at the default tick). */
const REACHABLE_MS = 2000;
/** A new learner counts as joining this long before it first answers (its daemon may still be starting). */
const JOIN_GRACE_MS = 10_000;

export class RoleManager {
  private timer?: NodeJS.Timeout;
  private busy = false;
  private readonly log: Logger;
  /** When this leader first saw each current learner. */
  private readonly learnerSince = new Map<string, number>();

  constructor(
    private readonly raft: RaftNode,
    private readonly store: MemoryStore,
    log?: Logger,
  ) {
    this.log = log ?? createLogger({ component: 'role-manager' });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.reconcile(), PERIOD_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private view(): RaftView {
    const s = this.raft.status();
    const now = Date.now();
    const reachable = new Set([s.id]);
    for (const id of [...s.conf.voters, ...s.conf.learners]) {
      const heard = this.raft.lastHeardFrom(id);
      if (heard !== undefined && now - heard < REACHABLE_MS) reachable.add(id);
    }
    for (const id of this.learnerSince.keys())
      if (!s.conf.learners.includes(id)) this.learnerSince.delete(id);
    const joining = new Set<string>();
    for (const id of s.conf.learners) {
      if (!this.learnerSince.has(id)) this.learnerSince.set(id, now);
      if (reachable.has(id) || now - this.learnerSince.get(id)! < JOIN_GRACE_MS) joining.add(id);
    }
    return { self: s.id, voters: s.conf.voters, learners: s.conf.learners, reachable, joining };
  }

  private async reconcile(): Promise<void> {
    if (this.busy || !this.raft.isLeader) return;
    this.busy = true;
    try {
      const view = this.view();
      const nodes = new Map(this.store.view((tx) => tx.all('node').map((n): [string, Node] => [n.ID, n])));
      const step = nextMembershipStep(view, nodes);
      if (step.kind === 'remove') {
        await this.raft.removeMember(step.id);
        this.log.info('manager removed from the raft group', { node: step.id, why: step.why });
      } else if (step.kind === 'transfer-leadership') {
        const to = view.voters.find((v) => v !== view.self && view.reachable.has(v))!;
        this.log.info('handing leadership over before leaving the raft group', { to, why: step.why });
        this.raft.transferLeadership(to);
        return;
      }
      const now = this.view();
      if (managerStatusChanges(now, nodes.values()).length === 0) return;
      // Worked out again inside the transaction, from the nodes as they are then: another leader-side write
      // (markLeader at election) may have landed since the read above, and must not be overwritten.
      await this.store.update((tx) => {
        for (const n of managerStatusChanges(now, tx.all('node'))) {
          const cur = tx.get('node', n.ID)!;
          cur.ManagerStatus = n.ManagerStatus;
          if (!cur.ManagerStatus) delete cur.ManagerStatus;
          tx.update('node', cur);
        }
      });
    } catch (err) {
      this.log.debug('membership reconciliation deferred', { err: errorMessage(err) });
    } finally {
      this.busy = false;
    }
  }
}
