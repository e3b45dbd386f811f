// The manager's collectors against in-process store replicas with known content: every gauge is compared with a
// count made independently through the store's read API, and the hooks with the operations that ran.
import test from 'ava';
import { Registry } from 'prom-client';
import {
  TASK_STATES,
  type Config,
  type Network,
  type Node,
  type Secret,
  type Service,
  type Task,
  type TaskState,
} from '../../../api/index.js';
import { ManagerMetrics, type ManagerMetricsSource } from '../../../manager/metrics/index.js';
import { MemoryStore, batchUpdate } from '../../../manager/store/index.js';
import { LogProposer } from '../../support/log-proposer.js';
import { mkNode, mkTask } from '../../support/cluster-fixtures.js';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

async function samples(registry: Registry, name: string): Promise<Sample[] | undefined> {
  const m = registry.getSingleMetric(name);
  if (!m) return undefined;
  return (await m.get()).values as Sample[];
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const found = (await samples(registry, name))?.filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (!found || found.length !== 1)
    throw new Error(`${name} ${JSON.stringify(labels)}: ${found?.length} samples`);
  return found[0]!.value;
}

async function histogramCount(registry: Registry, name: string): Promise<number> {
  const s = (await samples(registry, name))?.find((x) => x.metricName === `${name}_count`);
  if (!s) throw new Error(`no ${name}_count`);
  return s.value;
}

/** A manager stand-in: store replicas fed by one log, leadership switched by the test. */
class FakeManager implements ManagerMetricsSource {
  isLeader = false;
  private listeners = new Set<(c: { isLeader: boolean }) => void>();
  raft = {
    status: () => ({ term: 7, commit: this.proposer.log.length + 2, applied: this.store.lastApplied }),
  };
  constructor(
    readonly store: MemoryStore,
    private readonly proposer: LogProposer,
  ) {}
  onLeaderChange(l: (c: { isLeader: boolean }) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  lead(isLeader: boolean): void {
    this.isLeader = isLeader;
    for (const l of this.listeners) l({ isLeader });
  }
}

function setup(maxServiceLabels?: number) {
  const registry = new Registry();
  const metrics = new ManagerMetrics(registry, { maxServiceLabels });
  const proposer = new LogProposer();
  const leaderStore = new MemoryStore({ proposer, observer: metrics.storeObserver });
  const followerStore = new MemoryStore({ proposer });
  proposer.replicas.push(leaderStore, followerStore);
  return { registry, metrics, proposer, leaderStore, followerStore };
}

const service = (id: string, name: string): Service => ({
  ID: id,
  Version: { Index: 0 },
  CreatedAt: '',
  UpdatedAt: '',
  Spec: { Name: name, TaskTemplate: { ContainerSpec: { Image: 'busybox' } } },
});
const meta = { Version: { Index: 0 }, CreatedAt: '', UpdatedAt: '' };
const network = (id: string): Network => ({
  ID: id,
  ...meta,
  Spec: { Name: `net-${id}` },
  DriverState: { Name: 'overlay' },
});
const secret = (id: string): Secret => ({ ID: id, ...meta, Spec: { Name: `secret-${id}`, Data: 'eA==' } });
const config = (id: string): Config => ({ ID: id, ...meta, Spec: { Name: `config-${id}`, Data: 'eA==' } });
const task = (id: string, serviceId: string, state: TaskState): Task => {
  const t = mkTask(id, serviceId);
  t.Status = { Timestamp: '', State: state, Message: state };
  return t;
};

/** 6 nodes, 4 services with 1-4 tasks in various states, 2 networks, 3 secrets, 1 config. */
async function fill(store: MemoryStore): Promise<void> {
  const nodeStates: Node['Status']['State'][] = [
    'ready',
    'ready',
    'ready',
    'down',
    'unknown',
    'disconnected',
  ];
  const taskStates: TaskState[] = [
    'running',
    'running',
    'failed',
    'pending',
    'running',
    'shutdown',
    'complete',
  ];
  await store.update((tx) => {
    nodeStates.forEach((state, i) => tx.create('node', mkNode(`n${i}`, { state })));
    ['a', 'b', 'c', 'd'].forEach((name, i) => tx.create('service', service(`s${i}`, name)));
    let k = 0;
    for (let s = 0; s < 4; s++)
      for (let j = 0; j <= s; j++)
        tx.create('task', task(`t${k}`, `s${s}`, taskStates[k++ % taskStates.length]!));
    tx.create('network', network('x'));
    tx.create('network', network('y'));
    for (const id of ['p', 'q', 'r']) tx.create('secret', secret(id));
    tx.create('config', config('c'));
  });
}

test('cluster gauges equal counts made through the store API, on the leader and on a follower replica', async (t) => {
  const { registry, metrics, proposer, leaderStore, followerStore } = setup();
  await fill(leaderStore);
  for (const store of [leaderStore, followerStore]) {
    const m = new FakeManager(store, proposer);
    metrics.attach(m);
    const expected = store.view((tx) => ({
      nodes: tx.all('node'),
      tasks: tx.all('task'),
      services: tx.all('service').length,
      networks: tx.all('network').length,
      secrets: tx.all('secret').length,
      configs: tx.all('config').length,
    }));
    for (const state of ['unknown', 'down', 'ready', 'disconnected'])
      t.is(
        await value(registry, 'swarm_manager_nodes', { state }),
        expected.nodes.filter((n) => n.Status.State === state).length,
        `nodes ${state}`,
      );
    t.is((await samples(registry, 'swarm_manager_nodes'))!.length, 4, 'node states zero-filled');
    for (const state of TASK_STATES)
      t.is(
        await value(registry, 'swarm_manager_tasks_total', { state }),
        expected.tasks.filter((x) => x.Status.State === state).length,
        `tasks ${state}`,
      );
    t.is(await value(registry, 'swarm_manager_services_total'), expected.services);
    t.is(await value(registry, 'swarm_manager_networks_total'), expected.networks);
    t.is(await value(registry, 'swarm_manager_secrets_total'), expected.secrets);
    t.is(await value(registry, 'swarm_manager_configs_total'), expected.configs);
    t.is(await value(registry, 'swarm_manager_leader'), 0);
    t.is(await value(registry, 'tsswarm_raft_term'), 7);
    t.is(await value(registry, 'tsswarm_raft_applied_index'), store.lastApplied);
    t.is(await value(registry, 'tsswarm_raft_commit_index'), proposer.log.length + 2);
    for (const [name, id] of [
      ['a', 's0'],
      ['d', 's3'],
    ] as const)
      t.is(
        await value(registry, 'tsswarm_tasks', { service: name, state: 'running' }),
        expected.tasks.filter((x) => x.ServiceID === id && x.Status.State === 'running').length,
      );
    metrics.detach(m);
  }
  // Changes are seen at the next scrape.
  const m = new FakeManager(followerStore, proposer);
  metrics.attach(m);
  await leaderStore.update((tx) => {
    const n = tx.get('node', 'n0')!;
    n.Status = { ...n.Status, State: 'down' };
    tx.update('node', n);
  });
  t.is(await value(registry, 'swarm_manager_nodes', { state: 'ready' }), 2);
  t.is(await value(registry, 'swarm_manager_nodes', { state: 'down' }), 2);
});

test('tsswarm_tasks keeps at most N service labels; the rest is summed under service="_other"', async (t) => {
  const { registry, metrics, proposer, leaderStore } = setup(2);
  await fill(leaderStore);
  metrics.attach(new FakeManager(leaderStore, proposer));
  const all = (await samples(registry, 'tsswarm_tasks'))!;
  const services = new Set(all.map((s) => s.labels.service));
  // Services d (4 tasks) and c (3 tasks) have the most tasks; a (1) and b (2) are aggregated.
  t.deepEqual([...services].sort(), ['_other', 'c', 'd']);
  const tasks = leaderStore.view((tx) => tx.all('task'));
  for (const s of all) {
    const ids = s.labels.service === '_other' ? ['s0', 's1'] : [s.labels.service === 'c' ? 's2' : 's3'];
    t.is(
      s.value,
      tasks.filter((x) => ids.includes(x.ServiceID) && x.Status.State === s.labels.state).length,
      JSON.stringify(s.labels),
    );
  }
  t.is(
    all.reduce((n, s) => n + s.value, 0),
    tasks.length,
    'every task counted once',
  );
});

test('leader-only histograms are reported only while leading; scheduling delay is creation to RUNNING', async (t) => {
  const { registry, metrics, proposer, leaderStore } = setup();
  const m = new FakeManager(leaderStore, proposer);
  metrics.attach(m);
  t.is(registry.getSingleMetric('swarm_dispatcher_scheduling_delay_seconds'), undefined);
  t.is(registry.getSingleMetric('swarm_raft_transaction_latency_seconds'), undefined);
  t.truthy(registry.getSingleMetric('swarm_manager_nodes'));
  m.lead(true);
  t.is(await value(registry, 'swarm_manager_leader'), 1);
  t.truthy(registry.getSingleMetric('swarm_raft_transaction_latency_seconds'));
  const before = Date.now();
  await leaderStore.update((tx) => tx.create('task', task('t1', 's1', 'new')));
  const created = Date.parse(leaderStore.view((tx) => tx.get('task', 't1'))!.CreatedAt);
  await new Promise((r) => setTimeout(r, 60));
  for (const state of ['assigned', 'running', 'running'] as TaskState[]) {
    await leaderStore.update((tx) => {
      const x = tx.get('task', 't1')!;
      x.Status = { ...x.Status, State: state };
      tx.update('task', x);
    });
  }
  const after = Date.now();
  t.is(
    await histogramCount(registry, 'swarm_dispatcher_scheduling_delay_seconds'),
    1,
    'one task reached RUNNING once',
  );
  const sum = (await samples(registry, 'swarm_dispatcher_scheduling_delay_seconds'))!.find(
    (s) => s.metricName === 'swarm_dispatcher_scheduling_delay_seconds_sum',
  )!.value;
  t.true(sum >= 0.055 && sum <= (after - Math.min(before, created)) / 1000 + 0.001, `delay ${sum}`);
  // Raft's hook feeds the transaction histogram.
  metrics.raftObserver.applied!(0.003);
  metrics.raftObserver.proposed!();
  t.is(await histogramCount(registry, 'swarm_raft_transaction_latency_seconds'), 1);
  t.is(await value(registry, 'tsswarm_raft_proposals_total'), 1);
  // Losing leadership hides leader-only histograms and stops observing.
  m.lead(false);
  t.is(registry.getSingleMetric('swarm_dispatcher_scheduling_delay_seconds'), undefined);
  await leaderStore.update((tx) => tx.create('task', task('t2', 's1', 'new')));
  await leaderStore.update((tx) => {
    const x = tx.get('task', 't2')!;
    x.Status = { ...x.Status, State: 'running' };
    tx.update('task', x);
  });
  m.lead(true);
  t.is(await histogramCount(registry, 'swarm_dispatcher_scheduling_delay_seconds'), 1);
  // Detaching the manager (it stopped, or the node was demoted) removes every manager metric.
  metrics.detach(m);
  t.deepEqual(
    registry.getMetricsAsArray().map((x) => (x as unknown as { name: string }).name),
    [],
  );
});

test('store hooks: one observation per view, write transaction, lookup and batch', async (t) => {
  const { registry, metrics, proposer, leaderStore } = setup();
  metrics.attach(new FakeManager(leaderStore, proposer));
  const count = (n: string) => histogramCount(registry, `swarm_store_${n}_latency_seconds`);
  const [reads, writes, lookups, batches] = await Promise.all(
    ['read_tx', 'write_tx', 'lookup', 'batch'].map(count),
  );
  await leaderStore.update((tx) => tx.create('service', service('s1', 'web')));
  t.is(await count('write_tx'), writes! + 1);
  leaderStore.view((tx) => {
    tx.get('service', 's1');
    tx.find('service', 'name', 'web');
  });
  t.is(await count('read_tx'), reads! + 1);
  // The create looked up the ID (a get) and the name (a find); the view made one get and one find.
  t.is(await count('lookup'), lookups! + 2 + 2);
  await batchUpdate(
    leaderStore,
    Array.from({ length: 5 }, (_, i) => (tx) => tx.create('task', task(`b${i}`, 's1', 'new'))),
    2,
  );
  t.is(await count('batch'), batches! + 1);
  t.is(await count('write_tx'), writes! + 1 + 3, 'the batch ran 3 transactions of at most 2 tasks');
});
