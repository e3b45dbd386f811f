// raft/: consensus — the pure core (this folder's core/), with storage, transport and the node driver to come.
export * from './types.js';
export { RaftCore, type RestoreState } from './core/raft-core.js';
export { NotLeaderError } from './core/errors.js';
export { Wal, WalCorruption, DEFAULT_SEGMENT_BYTES, type WalState } from './storage/wal.js';
export { SnapshotStore } from './storage/snapshots.js';
export { crc32c } from './storage/crc32c.js';
