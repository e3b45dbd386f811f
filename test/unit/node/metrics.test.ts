// The node-level metrics: --metrics-addr parsing, the executor wrapper's task counts and container start times
// (against a fake executor's own view), image pull counting, and the HTTP listener's answers.
import test from 'ava';
import { createLogger, type Task, type TaskState } from '../../../api/index.js';
import {
  MetricsServer,
  NodeMetrics,
  ObservedExecutor,
  parseMetricsAddr,
} from '../../../node/metrics/index.js';
import { FakeExecutor } from '../../../worker/index.js';
import { parsePromText, sampleValue } from '../../support/prom-text.js';

const quiet = createLogger({}, () => undefined);

function task(id: string, desired: TaskState = 'running'): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '2026-01-01T00:00:00Z',
    UpdatedAt: '2026-01-01T00:00:00Z',
    ServiceID: 'svc1',
    Slot: 1,
    Spec: { ContainerSpec: { Image: 'busybox:local' } },
    Status: { Timestamp: '2026-01-01T00:00:00Z', State: 'assigned', Message: '' },
    DesiredState: desired,
  };
}

async function until(fn: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('--metrics-addr takes HOST:PORT, [v6]:PORT or :PORT and refuses anything else', (t) => {
  t.deepEqual(parseMetricsAddr('127.0.0.1:9323'), { host: '127.0.0.1', port: 9323 });
  t.deepEqual(parseMetricsAddr('[::1]:9323'), { host: '::1', port: 9323 });
  t.deepEqual(parseMetricsAddr(':9323'), { host: '0.0.0.0', port: 9323 });
  t.deepEqual(parseMetricsAddr('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['127.0.0.1', '127.0.0.1:', '127.0.0.1:70000', 'a:b', '::1:9323', ''])
    t.throws(() => parseMetricsAddr(bad), { message: /invalid --metrics-addr/ }, bad);
});

test("the executor wrapper counts the node's tasks by state as the executor runs them, and times STARTING → RUNNING", async (t) => {
  const fake = new FakeExecutor({ stepMs: 2 });
  const starts: number[] = [];
  const observed = new ObservedExecutor(fake, (s) => starts.push(s));
  await observed.start();
  try {
    observed.setAssignments([task('a'), task('b'), task('c')]);
    t.is(observed.countByState().get('assigned'), 3, 'assigned tasks count before any report');
    await until(() => fake.running().length === 3, '3 running');
    t.deepEqual([...observed.countByState()], [['running', 3]]);
    t.is(starts.length, 3, 'one container start per task');
    t.true(starts.every((s) => s > 0 && s < 5));
    // One task is told to shut down, one leaves the set: counts follow the executor.
    observed.setAssignments([task('a'), task('b', 'shutdown')]);
    await until(() => fake.tasks().find((x) => x.taskId === 'b')?.state === 'shutdown', 'b shut down');
    t.deepEqual(
      new Map(observed.countByState()),
      new Map<TaskState, number>([
        ['running', 1],
        ['shutdown', 1],
      ]),
    );
    t.is(starts.length, 3);
  } finally {
    observed.close();
    await observed.stop();
  }
});

test('NodeMetrics counts pulls by result and serves the registry over HTTP (GET/HEAD /metrics only)', async (t) => {
  const metrics = new NodeMetrics({ isManager: () => false });
  const server = new MetricsServer('127.0.0.1:0', metrics, quiet);
  await server.start();
  try {
    t.is(await metrics.timePull(async () => 'sha256:1'), 'sha256:1');
    await t.throwsAsync(metrics.timePull(() => Promise.reject(new Error('no such image'))));
    await t.throwsAsync(metrics.timePull(() => Promise.reject(new Error('timeout'))));
    metrics.heartbeat(0.004);
    const res = await fetch(`http://${server.address}/metrics`);
    t.is(res.status, 200);
    t.is(res.headers.get('content-type'), metrics.registry.contentType);
    const s = parsePromText(await res.text());
    t.is(sampleValue(s, 'tsswarm_image_pulls_total', { result: 'success' }), 1);
    t.is(sampleValue(s, 'tsswarm_image_pulls_total', { result: 'failure' }), 2);
    t.is(sampleValue(s, 'tsswarm_image_pull_seconds_count'), 3);
    t.is(sampleValue(s, 'tsswarm_agent_heartbeat_seconds_count'), 1);
    t.is(sampleValue(s, 'tsswarm_agent_heartbeat_seconds_sum'), 0.004);
    t.is(sampleValue(s, 'swarm_node_manager'), 0);
    t.is(sampleValue(s, 'tsswarm_node_tasks', { state: 'running' }), 0);
    t.false(
      s.some((x) => x.name.startsWith('swarm_manager_')),
      'no manager metrics without a manager',
    );
    t.false(s.some((x) => x.name.startsWith('nodejs_active_handles_total')));
    t.true(s.some((x) => x.name === 'nodejs_active_handles'));
    const head = await fetch(`http://${server.address}/metrics`, { method: 'HEAD' });
    t.is(head.status, 200);
    t.is((await fetch(`http://${server.address}/`)).status, 404);
    t.is((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.stop();
    metrics.close();
  }
});

test('two daemons in one process keep separate registries', async (t) => {
  const a = new NodeMetrics({ isManager: () => true });
  const b = new NodeMetrics({ isManager: () => false });
  try {
    a.heartbeat(1);
    const sa = parsePromText((await a.scrape()).body);
    const sb = parsePromText((await b.scrape()).body);
    t.is(sampleValue(sa, 'tsswarm_agent_heartbeat_seconds_count'), 1);
    t.is(sampleValue(sb, 'tsswarm_agent_heartbeat_seconds_count'), 0);
    t.is(sampleValue(sa, 'swarm_node_manager'), 1);
    t.is(sampleValue(sb, 'swarm_node_manager'), 0);
  } finally {
    a.close();
    b.close();
  }
});
