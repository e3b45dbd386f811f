// A real Prometheus scrapes a lab swarm of 3 managers and 2 workers, each daemon started with
// `--metrics-addr <underlay addr>:9323` inside its namespace (Prometheus, in the root namespace, reaches them
// through the lab's bridge). Its query API must agree with the cluster's API: 5 ready nodes, as many running
// tasks as `GET /tasks` lists, and a killed worker counted down. The deploy/prometheus rules load and evaluate.
import test from 'ava';
import { join } from 'node:path';
import { Lab } from '../../../deploy/lab/index.js';
import type { Task } from '../../../api/index.js';
import { cliCommand, REPO_ROOT } from '../../support/daemon-process.js';
import { importBusyboxIntoDaemon } from '../../support/busybox-image.js';
import { apiGet, dockerOn as docker } from '../../support/lab-docker.js';
import { startPrometheus, type Prometheus, type VectorSample } from '../../support/prometheus.js';
import { promtoolCheckMetrics, scrape } from '../../support/prom-text.js';

const MANAGERS = ['m1', 'm2', 'm3'];
const WORKERS = ['w1', 'w2'];
const HOSTS = [...MANAGERS, ...WORKERS];
const METRICS_PORT = 9323;

/** Polls an instant query until `ok` accepts its samples. */
async function queryUntil(
  prom: Prometheus,
  q: string,
  ok: (s: VectorSample[]) => boolean,
  ms: number,
): Promise<VectorSample[]> {
  const deadline = Date.now() + ms;
  let last: VectorSample[] = [];
  for (;;) {
    last = await prom.query(q);
    if (ok(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`query ${q} never matched; last result ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const hostsOf = (s: VectorSample[]) => s.map((x) => x.metric.host).sort();

test('Prometheus scrapes a 3-manager lab swarm: ready nodes, running tasks and a killed worker agree with the API', async (t) => {
  t.timeout(180_000);
  const started = Date.now();
  const lab = await Lab.create({ tsswarm: cliCommand() });
  let prom: Prometheus | undefined;
  try {
    for (const h of HOSTS) await lab.addHost(h);
    const metricsAddr = (h: string) => `${lab.host(h).addr}:${METRICS_PORT}`;
    await Promise.all(HOSTS.map((h) => lab.startDaemon(h, ['--metrics-addr', metricsAddr(h)])));
    const m1 = lab.host('m1').addr;
    const init = docker(lab, 'm1', ['swarm', 'init', '--advertise-addr', m1, '--dispatcher-heartbeat', '1s']);
    t.is(init.status, 0, init.stderr);
    const mtoken = docker(lab, 'm1', ['swarm', 'join-token', '-q', 'manager']).stdout.trim();
    const wtoken = docker(lab, 'm1', ['swarm', 'join-token', '-q', 'worker']).stdout.trim();
    for (const m of ['m2', 'm3']) {
      const j = docker(lab, m, ['swarm', 'join', '--token', mtoken, `${m1}:2377`]);
      t.is(j.status, 0, j.stderr);
    }
    for (const w of WORKERS) {
      const j = docker(lab, w, ['swarm', 'join', '--token', wtoken, `${m1}:2377`]);
      t.is(j.status, 0, j.stderr);
    }
    await Promise.all(WORKERS.map((w) => importBusyboxIntoDaemon(lab.host(w).socket)));

    prom = await startPrometheus({
      targets: HOSTS.map((h) => ({ addr: metricsAddr(h), labels: { lab: lab.id, host: h } })),
      ruleFiles: [join(REPO_ROOT, 'deploy', 'prometheus', 'tsswarm-rules.yml')],
    });
    // Every daemon is up for Prometheus; managers report swarm_node_manager 1, workers 0.
    await queryUntil(prom, 'up == 1', (s) => s.length === 5, 30_000);
    const managers = await queryUntil(prom, 'swarm_node_manager == 1', (s) => s.length === 3, 30_000);
    t.deepEqual(hostsOf(managers), MANAGERS);

    // Each manager, followers included, reports 5 ready nodes from its own replica.
    const ready = await queryUntil(
      prom,
      'swarm_manager_nodes{state="ready"}',
      (s) => s.length === 3 && s.every((x) => x.value === 5),
      30_000,
    );
    t.deepEqual(hostsOf(ready), MANAGERS);
    const leaderNow = async () =>
      (await queryUntil(prom!, 'swarm_manager_leader == 1', (s) => s.length === 1, 15_000))[0]!.metric.host;
    const leader = await leaderNow();
    t.true(MANAGERS.includes(leader!));

    // A small service on the workers; Prometheus' running-task count must equal what the API lists.
    const create = docker(lab, 'm1', [
      'service',
      'create',
      '--name',
      'web',
      '--replicas',
      '3',
      '--constraint',
      'node.role==worker',
      'busybox:local',
      'sleep',
      '300',
    ]);
    t.is(create.status, 0, create.stderr);
    const runningInApi = async () =>
      ((await apiGet(lab, 'm1', '/tasks')).body as Task[]).filter((x) => x.Status.State === 'running').length;
    t.is(await runningInApi(), 3);
    const running = await queryUntil(
      prom,
      'swarm_manager_tasks_total{state="running"}',
      (s) => s.length === 3 && s.every((x) => x.value === 3),
      30_000,
    );
    t.deepEqual(hostsOf(running), MANAGERS);
    t.is(await runningInApi(), 3, 'the API still lists 3 running tasks');
    // Per service, and each worker's own count adds up to the same.
    await queryUntil(
      prom,
      'tsswarm_tasks{service="web",state="running"}',
      (s) => s.length === 3 && s.every((x) => x.value === 3),
      15_000,
    );
    await queryUntil(
      prom,
      'sum(tsswarm_node_tasks{state="running"})',
      (s) => s.length === 1 && s[0]!.value === 3,
      15_000,
    );
    // Leader-only histograms come from the leader alone; it saw 3 tasks reach RUNNING (unless leadership moved
    // meanwhile, which a loaded machine may cause: then the new leader reports, with its own count).
    const delay = await queryUntil(
      prom,
      'swarm_dispatcher_scheduling_delay_seconds_count',
      (s) => s.length === 1,
      15_000,
    );
    t.is(delay[0]!.metric.host, await leaderNow());
    if (delay[0]!.metric.host === leader) t.is(delay[0]!.value, 3);

    // /metrics passes promtool on a manager and on a worker: no problem printed, exit 0.
    for (const h of ['m2', 'w1']) {
      const r = await scrape(metricsAddr(h));
      t.is(r.status, 200);
      t.regex(r.contentType, /^text\/plain; version=0\.0\.4/);
      const check = promtoolCheckMetrics(r.body);
      t.deepEqual(check.problems, [], h);
      t.is(check.status, 0, `promtool on ${h}`);
    }

    // A worker daemon dies: after 3 missed heartbeats (1 s period) every manager counts one node down.
    await lab.stopDaemon('w2', 'SIGKILL');
    const killed = Date.now();
    const down = await queryUntil(
      prom,
      'swarm_manager_nodes{state="down"}',
      (s) => s.length === 3 && s.every((x) => x.value === 1),
      30_000,
    );
    t.deepEqual(hostsOf(down), MANAGERS);
    t.log(`Prometheus saw the node down ${Date.now() - killed} ms after SIGKILL`);
    await queryUntil(
      prom,
      'swarm_manager_nodes{state="ready"}',
      (s) => s.length === 3 && s.every((x) => x.value === 4),
      10_000,
    );
    t.is(
      docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])
        .stdout.split('\n')
        .filter((l) => /^w2 Down$/.test(l.trim())).length,
      1,
      'the API agrees',
    );
    // The recording rules and the node-down alert of deploy/prometheus evaluate on the real series.
    await queryUntil(
      prom,
      `lab:swarm_manager_nodes:max{lab="${lab.id}",state="down"}`,
      (s) => s.length === 1 && s[0]!.value === 1,
      10_000,
    );
    await queryUntil(
      prom,
      'ALERTS{alertname="SwarmNodeDown",state="down"}',
      (s) => s.length === 1 && ['pending', 'firing'].includes(s[0]!.metric.alertstate!),
      10_000,
    );
    t.log(`test body took ${Date.now() - started} ms`);
  } finally {
    const teardown = Date.now();
    await prom?.stop();
    await lab.down();
    t.log(`teardown (Prometheus, lab) took ${Date.now() - teardown} ms`);
  }
});
