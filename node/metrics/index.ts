// node/metrics: the daemon's metrics registry (node-wide collectors plus the manager's) and its HTTP listener.
export { NodeMetrics, type NodeMetricsOptions } from './node-metrics.js';
export { MetricsServer, parseMetricsAddr } from './metrics-server.js';
export { ObservedExecutor } from './observed-executor.js';
