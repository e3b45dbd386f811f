// raft/: consensus — the pure core, the WAL and snapshot files, the gRPC transport and the node driver.
export * from './types.js';
export { RaftCore, type RestoreState, type RaftStatus } from './core/raft-core.js';
export { NotLeaderError, OutcomeUnknownError } from './core/errors.js';
export { splitAtWrite } from './core/write-order.js';
export { Wal, WalCorruption, DEFAULT_SEGMENT_BYTES, type WalState } from './storage/wal.js';
export { SnapshotStore } from './storage/snapshots.js';
export { crc32c } from './storage/crc32c.js';
export {
  GrpcTransport,
  raftServiceDefinition,
  RAFT_SERVICE,
  type TransportHandlers,
  type TransportOptions,
} from './transport/grpc-transport.js';
export {
  RaftNode,
  type RaftNodeOptions,
  type RaftObserver,
  type StateMachine,
  type LeaderChange,
} from './node.js';
