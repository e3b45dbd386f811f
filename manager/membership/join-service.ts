// Raft membership for managers joining: a new manager asks the leader to add it (as a learner that is promoted
// once it has caught up); the leader answers with the members it should talk to.
import * as grpc from '@grpc/grpc-js';
import { createLogger, errorMessage, InvalidArgument, type Logger } from '../../api/index.js';
import { MANAGER_ROLE, serveUnary, unaryMethod, callUnary, type Authorizer } from '../../pki/index.js';
import { NotLeaderError, type RaftNode } from '../../raft/index.js';

export const MEMBERSHIP_SERVICE = 'tsswarm.Membership';
const JOIN = unaryMethod(MEMBERSHIP_SERVICE, 'Join');

export interface JoinRaftRequest {
  addr: string;
}

export interface JoinRaftResponse {
  members: { id: string; addr: string }[];
}

/** Serves Join on the leader; promotes learners once their log has caught up with the commit index. */
export class MembershipService {
  private timer?: NodeJS.Timeout;
  private readonly log: Logger;

  constructor(
    private readonly raft: RaftNode,
    private readonly authz: Authorizer,
    private readonly self: { id: string; addr: string },
    /** Raft peers' addresses (from the transport, which learns them from committed membership changes). */
    private readonly peerAddress: (id: string) => string | undefined,
    /** Records the new manager's address in the cluster state once it is in the Raft group. */
    private readonly onJoined: (id: string, addr: string) => Promise<void>,
    log?: Logger,
  ) {
    this.log = log ?? createLogger({ component: 'membership' });
  }

  register(server: grpc.Server): void {
    server.addService(
      { Join: JOIN },
      {
        Join: serveUnary(async (req, call) => {
          const id = await this.authz.require(call as never, [MANAGER_ROLE]);
          const addr = (req as JoinRaftRequest)?.addr;
          if (typeof addr !== 'string' || !/:\d+$/.test(addr))
            throw new InvalidArgument('Join: addr must be host:port');
          if (!this.raft.isLeader) throw new NotLeaderError(this.raft.leader);
          const conf = this.raft.status().conf;
          if (!conf.voters.includes(id.nodeId) && !conf.learners.includes(id.nodeId))
            await this.raft.addLearner(id.nodeId, addr);
          await this.onJoined(id.nodeId, addr);
          return { members: this.members() } satisfies JoinRaftResponse;
        }),
      },
    );
  }

  private members(): { id: string; addr: string }[] {
    const conf = this.raft.status().conf;
    return [...conf.voters, ...conf.learners].map((id) => ({
      id,
      addr: id === this.self.id ? this.self.addr : (this.peerAddress(id) ?? ''),
    }));
  }

  /** Leader-only: promotes learners whose log matches the leader's commit index. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.promoteCaughtUp(), 200);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private promoting = false;

  private async promoteCaughtUp(): Promise<void> {
    if (!this.raft.isLeader || this.promoting) return;
    this.promoting = true;
    try {
      await this.promoteOne();
    } finally {
      this.promoting = false;
    }
  }

  private async promoteOne(): Promise<void> {
    const s = this.raft.status();
    for (const id of s.conf.learners) {
      const pr = s.progress?.[id];
      if (!pr || pr.match < s.commit) continue;
      try {
        await this.raft.promote(id);
        this.log.info('manager promoted to raft voter', { node: id });
      } catch (err) {
        this.log.debug('promotion deferred', { node: id, err: errorMessage(err) });
      }
      return; // one change at a time
    }
  }
}

/** Client side: asks the manager at `address` (the leader) to add this manager to the Raft group. */
export function requestRaftJoin(client: grpc.Client, addr: string): Promise<JoinRaftResponse> {
  return callUnary<JoinRaftResponse>(client, JOIN, { addr } satisfies JoinRaftRequest, 15_000);
}
