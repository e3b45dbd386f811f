// raft/: consensus — the pure core (this folder's core/), with storage, transport and the node driver to come.
export * from './types.js';
export { RaftCore, type RestoreState } from './core/raft-core.js';
export { NotLeaderError } from './core/errors.js';
