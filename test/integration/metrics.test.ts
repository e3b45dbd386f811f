// Metrics of a real control plane in one process: a manager and a worker (real Raft, mTLS, dispatcher sessions on
// loopback, fake executors), each with its own registry and /metrics listener as `--metrics-addr` makes them.
// Scraped values are compared with the store and the executors; the text passes promtool.
import test from 'ava';
import { join } from 'node:path';
import { createLogger, TASK_STATES, type Task } from '../../api/index.js';
import { controlRoutes } from '../../manager/index.js';
import { createHttpServer } from '../../node/http/server.js';
import { MetricsServer, NodeMetrics } from '../../node/metrics/index.js';
import { SwarmMembership } from '../../node/swarm/membership.js';
import { FakeExecutor } from '../../worker/index.js';
import { freePort } from '../support/net.js';
import {
  parsePromText,
  promtoolCheckMetrics,
  sampleValue,
  scrape,
  type PromSample,
} from '../support/prom-text.js';
import { tempDir } from '../support/temp.js';

const quiet = createLogger({}, () => undefined);

async function until<T>(fn: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface TestNode {
  swarm: SwarmMembership;
  executor: FakeExecutor;
  metrics: NodeMetrics;
  server: MetricsServer;
  id: string;
  samples(): Promise<PromSample[]>;
  text(): Promise<string>;
}

async function node(dir: string, name: string): Promise<TestNode> {
  const executor = new FakeExecutor();
  await executor.start();
  const holder: { swarm?: SwarmMembership } = {};
  const metrics = new NodeMetrics({ isManager: () => holder.swarm?.isManager ?? false });
  const swarm = new SwarmMembership(join(dir, name), quiet, metrics.observeExecutor(executor), {
    manager: metrics.manager,
    heartbeat: (s) => metrics.heartbeat(s),
  });
  holder.swarm = swarm;
  const server = new MetricsServer('127.0.0.1:0', metrics, quiet);
  await server.start();
  const text = async () => {
    const r = await scrape(server.address!);
    if (r.status !== 200) throw new Error(`scrape: ${r.status}`);
    if (r.contentType !== metrics.registry.contentType) throw new Error(`content type ${r.contentType}`);
    return r.body;
  };
  return { swarm, executor, metrics, server, id: '', text, samples: async () => parsePromText(await text()) };
}

test('manager and worker /metrics: cluster gauges equal the store, node gauges the executors, hooks count real work', async (t) => {
  t.timeout(90_000);
  const dir = tempDir();
  const port = await freePort();
  const nodes: TestNode[] = [];
  try {
    const m = await node(dir.path, 'm');
    nodes.push(m);
    m.id = await m.swarm.init({
      ListenAddr: `127.0.0.1:${port}`,
      AdvertiseAddr: '127.0.0.1',
      Spec: { Dispatcher: { HeartbeatPeriod: 300e6 } },
    });
    const w = await node(dir.path, 'w');
    nodes.push(w);
    await w.swarm.join({
      ListenAddr: `127.0.0.1:${await freePort()}`,
      AdvertiseAddr: '127.0.0.1',
      RemoteAddrs: [`127.0.0.1:${port}`],
      JoinToken: m.swarm.swarm().JoinTokens.Worker,
    });
    const store = m.swarm.store();
    await until(
      async () => store.view((tx) => tx.all('node')).filter((n) => n.Status.State === 'ready').length === 2,
      10_000,
      'two ready nodes',
    );
    const api = createHttpServer(quiet, [controlRoutes(() => m.swarm.store())]);
    const create = await api.inject({
      method: 'POST',
      url: '/services/create',
      payload: {
        Name: 'web',
        TaskTemplate: { ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '300'] } },
        Mode: { Replicated: { Replicas: 4 } },
      },
    });
    t.is(create.statusCode, 201, create.body);
    await api.close();
    const running = () =>
      store.view((tx) => tx.all('task')).filter((x: Task) => x.Status.State === 'running');
    await until(async () => running().length === 4, 15_000, '4 running tasks');

    // Manager: cluster gauges against the store, at a moment the store does not change.
    const ms = await until(
      async () => {
        const before = store.lastApplied;
        const s = await m.samples();
        return store.lastApplied === before ? s : undefined;
      },
      10_000,
      'a scrape between store changes',
    );
    const tasks = store.view((tx) => tx.all('task'));
    for (const state of TASK_STATES)
      t.is(
        sampleValue(ms, 'swarm_manager_tasks_total', { state }),
        tasks.filter((x) => x.Status.State === state).length,
        state,
      );
    t.is(sampleValue(ms, 'swarm_manager_tasks_total', { state: 'running' }), 4);
    t.is(sampleValue(ms, 'swarm_manager_nodes', { state: 'ready' }), 2);
    t.is(sampleValue(ms, 'swarm_manager_nodes', { state: 'down' }), 0);
    t.is(sampleValue(ms, 'swarm_manager_services_total'), 1);
    t.is(sampleValue(ms, 'tsswarm_tasks', { service: 'web', state: 'running' }), 4);
    t.is(sampleValue(ms, 'swarm_manager_leader'), 1);
    t.is(sampleValue(ms, 'swarm_node_manager'), 1);
    t.true(sampleValue(ms, 'tsswarm_raft_term') >= 1);
    t.true(sampleValue(ms, 'tsswarm_raft_commit_index') >= sampleValue(ms, 'tsswarm_raft_applied_index'));
    t.true(sampleValue(ms, 'tsswarm_raft_applied_index') >= store.lastApplied);
    t.true(sampleValue(ms, 'tsswarm_raft_wal_fsync_seconds_count') > 0);
    t.true(sampleValue(ms, 'swarm_store_write_tx_latency_seconds_count') > 0);
    t.true(sampleValue(ms, 'swarm_store_batch_latency_seconds_count') > 0, 'the scheduler wrote in batches');
    // Every proposal this leader made is applied (once none is in flight): one transaction observation each.
    await until(
      async () => {
        const s = await m.samples();
        const proposals = sampleValue(s, 'tsswarm_raft_proposals_total');
        return proposals > 0 && sampleValue(s, 'swarm_raft_transaction_latency_seconds_count') === proposals;
      },
      5000,
      'as many applied transactions as proposals',
    );
    t.pass();
    // Four tasks went from NEW to RUNNING once each.
    t.is(sampleValue(ms, 'swarm_dispatcher_scheduling_delay_seconds_count'), 4);

    // Each node's own tasks, as its executor runs them; container starts counted per task.
    for (const n of nodes) {
      const s = await n.samples();
      const mine = n.executor.running().length;
      t.is(sampleValue(s, 'tsswarm_node_tasks', { state: 'running' }), mine, 'node tasks running');
      t.is(sampleValue(s, 'tsswarm_container_start_seconds_count'), mine, 'one container start per task');
    }
    t.is(m.executor.running().length + w.executor.running().length, 4);

    // The worker reports node metrics only: no manager gauges, swarm_node_manager 0, heartbeats timed.
    const ws = await until(
      async () => {
        const s = await w.samples();
        return sampleValue(s, 'tsswarm_agent_heartbeat_seconds_count') > 0 ? s : undefined;
      },
      5000,
      'a timed heartbeat on the worker',
    );
    t.is(sampleValue(ws, 'swarm_node_manager'), 0);
    t.false(ws.some((s) => s.name.startsWith('swarm_manager_') || s.name.startsWith('tsswarm_raft_')));
    t.true(
      ws.some((s) => s.name === 'process_cpu_seconds_total'),
      'default process metrics',
    );

    // promtool: both texts are clean. Docker's `swarm_manager_*_total` object counts are exposed untyped
    // (promtool rejects a gauge named *_total), with their names and values unchanged.
    const wcheck = promtoolCheckMetrics(await w.text());
    t.deepEqual(wcheck.problems, []);
    t.is(wcheck.status, 0);
    const mtext = await m.text();
    const mcheck = promtoolCheckMetrics(mtext);
    t.deepEqual(mcheck.problems, []);
    t.is(mcheck.status, 0);
    t.regex(mtext, /^# TYPE swarm_manager_tasks_total untyped$/m);
    t.regex(mtext, /^# TYPE swarm_manager_nodes gauge$/m);

    // Anything but GET /metrics is refused.
    const other = await fetch(`http://${m.server.address}/other`);
    t.is(other.status, 404);
  } finally {
    for (const n of nodes.reverse()) {
      await n.swarm.stop();
      await n.server.stop();
      await n.executor.stop();
      n.metrics.close();
    }
    dir.remove();
  }
});
