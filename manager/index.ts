// manager/: what a manager runs — the replicated store on Raft, the CA, control API routes, orchestration.
export { Manager, type ManagerOptions } from './manager.js';
export { newClusterObject, selfNodeObject, DEFAULT_SWARM_SPEC } from './cluster-objects.js';
export { controlRoutes } from './controlapi/index.js';
export { MemoryStore } from './store/index.js';
export { EventsHub, eventRoutes } from './events/index.js';
export { requestRaftJoin, MembershipService } from './membership/index.js';
export { NO_LEADER_MESSAGE } from './store-forwarding.js';
export {
  ManagerMetrics,
  countClusterObjects,
  type ManagerMetricsOptions,
  type ManagerMetricsSource,
} from './metrics/index.js';
export { LogService, type LogMessage, type LogOptions, type LogSelector } from './logs/index.js';
export { Allocator, newIngressNetwork, type AllocatorUsage } from './allocator/index.js';
