// The daemon's metrics registry: default Node.js process metrics, this node's own figures (its tasks by state,
// image pulls, container starts, dispatcher heartbeats, whether it is a manager) and the manager's collectors.
// One registry per daemon, never prom-client's global one, so daemons in one process do not collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TASK_STATES } from '../../api/index.js';
import { ManagerMetrics, type ManagerMetricsOptions } from '../../manager/index.js';
import type { Executor } from '../../worker/index.js';
import { ObservedExecutor } from './observed-executor.js';

const NODEJS_TOTAL_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

export interface NodeMetricsOptions extends ManagerMetricsOptions {
  /** Whether this node runs a manager now. */
  isManager: () => boolean;
}

export class NodeMetrics {
  readonly registry = new Registry();
  readonly manager: ManagerMetrics;
  private readonly executors = new Set<ObservedExecutor>();
  private readonly pulls: Counter<'result'>;
  private readonly pullSeconds: Histogram;
  private readonly containerStart: Histogram;
  private readonly heartbeats: Histogram;

  constructor(o: NodeMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    // The same figures are in nodejs_active_{handles,requests,resources}{type}; these gauges are dropped because
    // their `_total` names break Prometheus' naming rules (promtool flags non-counters named *_total).
    for (const name of NODEJS_TOTAL_GAUGES) this.registry.removeSingleMetric(name);
    this.manager = new ManagerMetrics(this.registry, o);
    const executors = this.executors;
    new Gauge({
      name: 'swarm_node_manager',
      help: 'Whether this node is a manager (1) or not (0).',
      registers,
      collect() {
        this.set(o.isManager() ? 1 : 0);
      },
    });
    new Gauge({
      name: 'tsswarm_node_tasks',
      help: "This node's assigned tasks, by the latest state assigned or reported.",
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>();
        for (const e of executors)
          for (const [s, n] of e.countByState()) counts.set(s, (counts.get(s) ?? 0) + n);
        for (const s of TASK_STATES) this.set({ state: s }, counts.get(s) ?? 0);
      },
    });
    this.pulls = new Counter({
      name: 'tsswarm_image_pulls_total',
      help: 'Image pulls for tasks on this node, by result.',
      labelNames: ['result'],
      registers,
    });
    for (const result of ['success', 'failure']) this.pulls.inc({ result }, 0);
    this.pullSeconds = new Histogram({
      name: 'tsswarm_image_pull_seconds',
      help: 'Duration of image pulls for tasks on this node (failed ones included).',
      buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.containerStart = new Histogram({
      name: 'tsswarm_container_start_seconds',
      help: "Time from a task's STARTING report to its RUNNING report on this node (container start).",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.heartbeats = new Histogram({
      name: 'tsswarm_agent_heartbeat_seconds',
      help: "Round-trip time of this node's successful heartbeats to the dispatcher.",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
  }

  /** Wraps the node's executor so its tasks and container starts are counted. */
  observeExecutor(executor: Executor): Executor {
    const observed = new ObservedExecutor(executor, (s) => this.containerStart.observe(s));
    this.executors.add(observed);
    return observed;
  }

  /** Runs an image pull and counts it. */
  async timePull<T>(pull: () => Promise<T>): Promise<T> {
    const end = this.pullSeconds.startTimer();
    try {
      const r = await pull();
      this.pulls.inc({ result: 'success' });
      return r;
    } catch (err) {
      this.pulls.inc({ result: 'failure' });
      throw err;
    } finally {
      end();
    }
  }

  /** Records one heartbeat's round trip (seconds). */
  heartbeat(seconds: number): void {
    this.heartbeats.observe(seconds);
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  close(): void {
    for (const e of this.executors) e.close();
    this.executors.clear();
    this.registry.clear();
  }
}
