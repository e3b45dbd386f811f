// Writes from any manager: the leader proposes store transactions itself; a follower builds the transaction on
// its replica and forwards the encoded bytes to the leader over the cluster RPC (manager-only). Version and
// name checks run again when the entry is applied, so a follower's slightly stale view cannot corrupt anything.
import * as grpc from '@grpc/grpc-js';
import { errorMessage, InvalidArgument, Unavailable } from '../api/index.js';
import {
  MANAGER_ROLE,
  callUnary,
  serveUnary,
  unaryMethod,
  ClusterChannel,
  type Authorizer,
  type CertificateStore,
} from '../pki/index.js';
import { NotLeaderError, OutcomeUnknownError, type RaftNode } from '../raft/index.js';
import type { MemoryStore, Proposer } from './store/index.js';

export const STORE_SERVICE = 'tsswarm.Store';
const PROPOSE = unaryMethod(STORE_SERVICE, 'Propose');

/** Docker's wording when a write or a consistent read cannot reach a leader. */
export const NO_LEADER_MESSAGE =
  "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

const FORWARD_TIMEOUT_MS = 10_000;

function noLeader(err?: unknown): Unavailable {
  if (err instanceof NotLeaderError && err.leaderHint) return err;
  return new Unavailable(NO_LEADER_MESSAGE);
}

/** Leader side: proposes transactions forwarded by other managers. */
export function addStoreService(server: grpc.Server, raft: RaftNode, authz: Authorizer): void {
  server.addService(
    { Propose: PROPOSE },
    {
      Propose: serveUnary(async (req, call) => {
        await authz.require(call as never, [MANAGER_ROLE]);
        const data = (req as { data?: unknown })?.data;
        if (!(data instanceof Uint8Array)) throw new InvalidArgument('Propose: data must be bytes');
        if (!raft.isLeader) throw new NotLeaderError(raft.leader);
        return raft.propose(data);
      }),
    },
  );
}

/** The store's proposer on a manager: local Raft when leading, the leader's Store service otherwise. */
export class ForwardingProposer implements Proposer {
  private channel?: ClusterChannel;

  constructor(
    private readonly raft: RaftNode,
    private readonly store: () => MemoryStore,
    private readonly certificates: CertificateStore,
    private readonly clusterId: string,
    private readonly peerAddress: (id: string) => string | undefined,
  ) {}

  async propose(data: Uint8Array): Promise<{ index: number }> {
    if (this.raft.isLeader) {
      try {
        return await this.raft.propose(data);
      } catch (err) {
        // Leadership lost with the write in flight (e.g. quorum lost): Docker's answer is "no leader" as well.
        if (err instanceof OutcomeUnknownError) throw new Unavailable(NO_LEADER_MESSAGE);
        throw err instanceof NotLeaderError ? noLeader(err) : err;
      }
    }
    const leader = this.raft.leader;
    const addr = leader ? this.peerAddress(leader) : undefined;
    if (!addr) throw noLeader();
    let index: number;
    try {
      ({ index } = await callUnary<{ index: number }>(
        this.channelTo(addr).client,
        PROPOSE,
        { data },
        FORWARD_TIMEOUT_MS,
      ));
    } catch (err) {
      // A leader that cannot be reached (just killed, partitioned) is, for this write, no leader at all.
      if (
        err instanceof NotLeaderError ||
        /no leader|not the leader|leadership changed|No connection established|ECONNREFUSED|EHOSTUNREACH/.test(
          errorMessage(err),
        )
      )
        throw noLeader(err);
      throw err;
    }
    // Read-your-writes on this manager: answer once the entry is applied to the local replica too.
    await this.store().waitApplied(index, FORWARD_TIMEOUT_MS);
    return { index };
  }

  private channelTo(addr: string): ClusterChannel {
    if (this.channel?.address !== addr) {
      this.channel?.close();
      this.channel = new ClusterChannel(addr, this.certificates, this.clusterId);
    }
    return this.channel;
  }

  close(): void {
    this.channel?.close();
    this.channel = undefined;
  }
}
