// manager/metrics: the manager's Prometheus collectors (cluster gauges from the store, Raft and store latencies).
export { ManagerMetrics, type ManagerMetricsOptions, type ManagerMetricsSource } from './manager-metrics.js';
export { countClusterObjects, NODE_STATES, OTHER_SERVICES, type ClusterCounts } from './cluster-counts.js';
