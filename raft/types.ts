// The Raft data model shared by the pure core, the storage and the transport (etcd raft's shapes).

/** Member IDs are strings (the manager's swarm node ID). */
export type MemberId = string;

export const EntryType = { Normal: 0, ConfChange: 1 } as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  /** Normal: the state machine's bytes (empty for the leader's no-op). ConfChange: encoded ConfChange. */
  data: Uint8Array;
}

/** What must be durable before the node answers a vote or acknowledges an entry. */
export interface HardState {
  term: number;
  vote: MemberId | '';
  commit: number;
}

export interface ConfState {
  voters: MemberId[];
  learners: MemberId[];
}

export interface SnapshotMeta {
  index: number;
  term: number;
  conf: ConfState;
  /**
   * Members' cluster addresses when the snapshot was taken: the conf changes that carried them are compacted
   * away, and a member restarting from (or installing) the snapshot must still reach its peers.
   */
  addrs?: Record<MemberId, string>;
}

export interface Snapshot {
  meta: SnapshotMeta;
  /** The state machine's serialized state at meta.index. */
  data: Uint8Array;
}

export type ConfChangeType = 'addVoter' | 'addLearner' | 'remove';

export interface ConfChange {
  type: ConfChangeType;
  id: MemberId;
  /** Opaque to Raft: e.g. the member's address, for the transport. */
  context?: Uint8Array;
}

export type MessageType =
  // local (never sent on the wire)
  | 'hup'
  | 'beat'
  | 'prop'
  | 'unreachable'
  | 'snapStatus'
  | 'checkQuorum'
  | 'transferLeader'
  | 'readIndex'
  // wire
  | 'app'
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'snap'
  | 'heartbeat'
  | 'heartbeatResp'
  | 'timeoutNow'
  | 'readIndexResp';

export interface Message {
  type: MessageType;
  from: MemberId;
  to: MemberId;
  term: number;
  /** Term of the entry at `index` (app: the entry before `entries`; vote: candidate's last log term). */
  logTerm: number;
  index: number;
  entries?: Entry[];
  commit: number;
  snapshot?: Snapshot;
  reject?: boolean;
  rejectHint?: number;
  /** Opaque context (ReadIndex request id, campaign-transfer marker). */
  context?: Uint8Array;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

export interface SoftState {
  leader: MemberId | '';
  role: Role;
}

export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** Everything the driver must do after a batch of steps: persist, send, apply (in that order, see Ready docs). */
export interface Ready {
  softState?: SoftState;
  /**
   * Persist (with entries, fsync when mustSync) before sending messages. Only a leader's appends may go out
   * first: the core counts the leader's own copy once advance() says it is written.
   */
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  /** Apply in order to the state machine. */
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
}

export interface RaftConfig {
  id: MemberId;
  /** Ticks a follower waits before campaigning; randomised in [electionTick, 2*electionTick). */
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  /** Max bytes of entries per append message. */
  maxSizePerMsg: number;
  /** Max append messages in flight per follower in replicate mode. */
  maxInflightMsgs: number;
  /** Max bytes of entries in flight per follower in replicate mode (default maxInflightMsgs * maxSizePerMsg). */
  maxInflightBytes?: number;
  /** Max bytes of uncommitted entries the leader accepts before refusing proposals. */
  maxUncommittedEntriesSize: number;
  /** Injected RNG in [0, 1): the core has no other source of randomness. */
  random: () => number;
}
