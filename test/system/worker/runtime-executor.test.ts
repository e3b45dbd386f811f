// The runtime executor on real runc + conmon + overlayfs: tasks go ACCEPTED → … → RUNNING with containers
// named and labelled as Docker's, stop on desired SHUTDOWN within their grace period, exit as COMPLETE or
// FAILED with Docker's error text, wait for health before RUNNING and fail when unhealthy, are REJECTED for an
// image that is nowhere, survive an executor + container manager restart (re-adopted, still watched), and
// their containers go with REMOVE or when they leave the assignment set. Nothing is left behind.
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import {
  createLogger,
  newId,
  taskStateRank,
  type HealthConfig,
  type Task,
  type TaskState,
  type TaskStatus,
} from '../../../api/index.js';
import { ContainerManager, ImageStore, runcKill, type ContainerRecord } from '../../../runtime/index.js';
import { RuntimeExecutor, type TaskStatusReport } from '../../../worker/index.js';
import { importBusybox } from '../../support/busybox-image.js';
import { tempDir, uniqueName, type TempDir } from '../../support/temp.js';
import { cleanupDataRoot, until } from '../runtime/fixture.js';

const log = createLogger({ test: 'runtime-executor' });
const SECOND = 1e9;

interface Node {
  dir: TempDir;
  images: ImageStore;
  containers: ContainerManager;
  executor: RuntimeExecutor;
  reports: TaskStatusReport[];
  /** A new container manager and executor on the same data root (a daemon restart with live restore). */
  restart(): Promise<void>;
}

async function node(t: ExecutionContext, pull?: (ref: string) => Promise<unknown>): Promise<Node> {
  const dir = tempDir();
  const images = new ImageStore(join(dir.path, 'image'));
  const n = { dir, images, reports: [] as TaskStatusReport[] } as Node;
  const open = async () => {
    n.containers = new ContainerManager({ dataRoot: dir.path, images, log });
    await n.containers.start();
    n.executor = new RuntimeExecutor({
      containers: n.containers,
      images,
      nodeId: 'tssnode1',
      log,
      pollMs: 50,
      pull,
    });
    n.executor.onStatus((r) => n.reports.push(r));
    await n.executor.start();
  };
  n.restart = async () => {
    await n.executor.stop();
    await n.containers.stop();
    await open();
  };
  t.teardown(async () => {
    await n.executor?.stop();
    for (const r of n.containers?.list() ?? [])
      await n.containers.remove(r.Id, { force: true }).catch(() => undefined);
    await n.containers?.stop();
    await cleanupDataRoot(dir.path);
    dir.remove();
  });
  await images.start();
  await importBusybox(images);
  await open();
  return n;
}

function task(o: {
  command: string[];
  image?: string;
  desired?: TaskState;
  graceNs?: number;
  healthcheck?: HealthConfig;
}): Task {
  const now = new Date().toISOString();
  const service = uniqueName();
  return {
    ID: newId(),
    Version: { Index: 1 },
    CreatedAt: now,
    UpdatedAt: now,
    Labels: { 'com.docker.swarm.service.name': service },
    ServiceID: newId(),
    Slot: 1,
    NodeID: 'tssnode1',
    Spec: {
      ContainerSpec: {
        Image: o.image ?? 'busybox:local',
        Command: o.command,
        Labels: { 'com.example.role': 'test' },
        ...(o.graceNs !== undefined ? { StopGracePeriod: o.graceNs } : {}),
        ...(o.healthcheck ? { HealthCheck: o.healthcheck } : {}),
      },
    },
    Status: { Timestamp: now, State: 'assigned', Message: 'scheduler assigned task to node' },
    DesiredState: o.desired ?? 'running',
  };
}

const reportsOf = (n: Node, id: string) => n.reports.filter((r) => r.taskId === id).map((r) => r.status);

async function reached(n: Node, id: string, state: TaskState, ms = 20_000): Promise<TaskStatus> {
  try {
    return await until(() => reportsOf(n, id).find((s) => s.State === state), ms, `task ${id} ${state}`);
  } catch (err) {
    const seen = reportsOf(n, id).map((s) => `${s.State}${s.Err ? ` (${s.Err})` : ''}`);
    throw new Error(`${(err as Error).message}; reported: ${seen.join(', ')}`);
  }
}

const containerOf = (n: Node, id: string): ContainerRecord | undefined =>
  n.containers.list().find((r) => r.Config.Labels['com.docker.swarm.task.id'] === id);

function checkForward(t: ExecutionContext, statuses: TaskStatus[]): void {
  const order: TaskState[] = ['assigned', ...statuses.map((s) => s.State)];
  const ranks = order.map((s) => taskStateRank(s));
  for (let i = 1; i < ranks.length; i++)
    t.true(ranks[i]! > ranks[i - 1]!, `forward only: ${order.join(' → ')}`);
  for (const s of statuses) t.false(Number.isNaN(Date.parse(s.Timestamp)));
}

test('sleep 300: ACCEPTED → … → RUNNING with a labelled container; desired SHUTDOWN stops it within the grace period; leaving the set removes it', async (t) => {
  const n = await node(t);
  const tk = task({ command: ['sleep', '300'], graceNs: 1 * SECOND });
  n.executor.setAssignments([tk]);
  const running = await reached(n, tk.ID, 'running');
  t.deepEqual(
    reportsOf(n, tk.ID).map((s) => [s.State, s.Message]),
    [
      ['accepted', 'accepted'],
      ['preparing', 'preparing'],
      ['ready', 'prepared'],
      ['starting', 'starting'],
      ['running', 'started'],
    ],
  );
  checkForward(t, reportsOf(n, tk.ID));
  const rec = containerOf(n, tk.ID)!;
  t.truthy(rec);
  t.true(rec.State.Running);
  const service = tk.Labels!['com.docker.swarm.service.name']!;
  t.is(rec.Name, `${service}.1.${tk.ID}`);
  t.like(rec.Config.Labels, {
    'com.docker.swarm.task': '',
    'com.docker.swarm.task.id': tk.ID,
    'com.docker.swarm.task.name': `${service}.1.${tk.ID}`,
    'com.docker.swarm.service.id': tk.ServiceID,
    'com.docker.swarm.service.name': service,
    'com.docker.swarm.node.id': 'tssnode1',
    'com.example.role': 'test',
  });
  t.is(running.ContainerStatus?.ContainerID, rec.Id);
  t.true((running.ContainerStatus?.PID ?? 0) > 0);

  // Assignments sent again unchanged move nothing.
  n.executor.setAssignments([tk]);
  await new Promise((r) => setTimeout(r, 200));
  t.is(reportsOf(n, tk.ID).length, 5);

  // sleep as PID 1 ignores SIGTERM: the grace period (1 s, not the default 10 s) ends in SIGKILL.
  const asked = Date.now();
  n.executor.setAssignments([{ ...tk, DesiredState: 'shutdown' }]);
  const down = await reached(n, tk.ID, 'shutdown', 10_000);
  const took = Date.now() - asked;
  t.true(took >= 900 && took < 6000, `shutdown took ${took} ms`);
  t.is(down.Message, 'shutdown');
  t.is(down.ContainerStatus?.ExitCode, 137);
  t.false(containerOf(n, tk.ID)!.State.Running, 'stopped, kept until the task leaves the set');

  n.executor.setAssignments([]);
  await until(() => !containerOf(n, tk.ID), 10_000, 'container removed');
  t.is(reportsOf(n, tk.ID).at(-1)!.State, 'shutdown', 'nothing reported for a task that left the set');
});

test("exit 3 → FAILED 'task: non-zero exit (3)' with the exit code; exit 0 → COMPLETE 'finished'", async (t) => {
  const n = await node(t);
  const bad = task({ command: ['sh', '-c', 'exit 3'] });
  const ok = task({ command: ['true'] });
  n.executor.setAssignments([bad, ok]);
  const failed = await reached(n, bad.ID, 'failed');
  t.is(failed.Err, 'task: non-zero exit (3)');
  t.is(failed.ContainerStatus?.ExitCode, 3);
  t.is(failed.ContainerStatus?.ContainerID, containerOf(n, bad.ID)!.Id);
  checkForward(t, reportsOf(n, bad.ID));
  const done = await reached(n, ok.ID, 'complete');
  t.is(done.Message, 'finished');
  t.is(done.Err, undefined);
  t.is(done.ContainerStatus?.ExitCode, 0);
  checkForward(t, reportsOf(n, ok.ID));
  // The executor never restarts a task.
  await new Promise((r) => setTimeout(r, 300));
  t.false(containerOf(n, bad.ID)!.State.Running);
  t.is(reportsOf(n, bad.ID).at(-1)!.State, 'failed');
});

test('an image that is not here and cannot be pulled → REJECTED "No such image: <ref>", no container', async (t) => {
  const n = await node(t);
  // Nothing listens on 127.0.0.1:1: the real pull fails at once.
  const image = `127.0.0.1:1/${uniqueName()}:latest`;
  const tk = task({ command: ['true'], image });
  n.executor.setAssignments([tk]);
  const rejected = await reached(n, tk.ID, 'rejected');
  t.is(rejected.Err, `No such image: ${image}`);
  t.is(rejected.Message, 'preparing');
  t.deepEqual(
    reportsOf(n, tk.ID).map((s) => s.State),
    ['accepted', 'preparing', 'rejected'],
  );
  t.is(containerOf(n, tk.ID), undefined);
});

test('a health check holds the task in STARTING until healthy; turning unhealthy fails it', async (t) => {
  const n = await node(t);
  const tk = task({
    command: ['sh', '-c', 'sleep 1; touch /tmp/ok; exec sleep 300'],
    graceNs: 0.5 * SECOND,
    healthcheck: {
      Test: ['CMD-SHELL', 'test -f /tmp/ok'],
      Interval: 0.2 * SECOND,
      Timeout: 2 * SECOND,
      Retries: 1,
      // Failures while it starts do not count (the file appears after 1 s).
      StartPeriod: 10 * SECOND,
    },
  });
  n.executor.setAssignments([tk]);
  const starting = await reached(n, tk.ID, 'starting');
  const running = await reached(n, tk.ID, 'running');
  const waited = Date.parse(running.Timestamp) - Date.parse(starting.Timestamp);
  t.true(waited >= 900, `RUNNING ${waited} ms after STARTING, once healthy`);
  t.is(containerOf(n, tk.ID)!.State.Health?.Status, 'healthy');

  await n.containers.exec(containerOf(n, tk.ID)!.Id, { argv: ['rm', '/tmp/ok'] });
  const failed = await reached(n, tk.ID, 'failed');
  t.is(failed.Err, 'task: non-zero exit (137): unhealthy container');
  t.is(failed.ContainerStatus?.ExitCode, 137);
  checkForward(t, reportsOf(n, tk.ID));
});

test('a restarted executor (new container manager on the same data root) re-adopts a running task, reports it RUNNING and still sees it exit', async (t) => {
  const n = await node(t);
  const tk = task({ command: ['sleep', '300'] });
  n.executor.setAssignments([tk]);
  await reached(n, tk.ID, 'running');
  const before = containerOf(n, tk.ID)!;

  await n.restart();
  t.true(containerOf(n, tk.ID)!.State.Running, 'the container outlived the executor');
  const again = reportsOf(n, tk.ID).filter((s) => s.State === 'running');
  t.is(again.length, 2, 'reported RUNNING again on start');
  t.is(again[1]!.ContainerStatus?.ContainerID, before.Id);

  // The managers' view lags behind (their last word was STARTING): RUNNING is reported again for them, and
  // nothing is created or started again.
  n.executor.setAssignments([
    { ...tk, Status: { Timestamp: new Date().toISOString(), State: 'starting', Message: 'starting' } },
  ]);
  await until(() => reportsOf(n, tk.ID).length === 7, 5000, 'RUNNING reported for the assignment');
  t.like(reportsOf(n, tk.ID)[6], { State: 'running', ContainerStatus: { ContainerID: before.Id } });
  await new Promise((r) => setTimeout(r, 300));
  t.is(n.containers.list().length, 1);
  t.is(containerOf(n, tk.ID)!.Id, before.Id);
  t.is(reportsOf(n, tk.ID).length, 7);

  await runcKill(n.containers.env, before.Id, 'SIGKILL');
  const failed = await reached(n, tk.ID, 'failed');
  t.is(failed.Err, 'task: non-zero exit (137)');
});

test('re-adoption: containers of tasks missing from the first assignment set are removed', async (t) => {
  const n = await node(t);
  const kept = task({ command: ['sleep', '300'] });
  const gone = task({ command: ['sleep', '300'], graceNs: 0.2 * SECOND });
  n.executor.setAssignments([kept, gone]);
  await reached(n, kept.ID, 'running');
  await reached(n, gone.ID, 'running');
  await n.restart();
  n.executor.setAssignments([kept]);
  await until(() => !containerOf(n, gone.ID), 10_000, 'the unassigned container removed');
  t.true(containerOf(n, kept.ID)!.State.Running);
});

test('desired REMOVE: stopped, reported SHUTDOWN, container removed', async (t) => {
  const n = await node(t);
  const tk = task({ command: ['sleep', '300'], graceNs: 0.3 * SECOND });
  n.executor.setAssignments([tk]);
  await reached(n, tk.ID, 'running');
  n.executor.setAssignments([{ ...tk, DesiredState: 'remove' }]);
  await reached(n, tk.ID, 'shutdown');
  await until(() => !containerOf(n, tk.ID), 10_000, 'container removed');
  t.pass();
});

test('a task that goes over its memory limit is OOM-killed: FAILED with exit code 137', async (t) => {
  const n = await node(t);
  const tk = task({ command: ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\000" a); echo $x'] });
  tk.Spec.Resources = { Limits: { MemoryBytes: 16 * 1024 * 1024 } };
  n.executor.setAssignments([tk]);
  const failed = await reached(n, tk.ID, 'failed');
  t.is(failed.Err, 'task: non-zero exit (137)');
  t.is(failed.ContainerStatus?.ExitCode, 137);
  t.true(containerOf(n, tk.ID)!.State.OOMKilled);
});

test('a command that does not exist: FAILED "starting container failed: …" with the runtime\'s exit code', async (t) => {
  const n = await node(t);
  const tk = task({ command: ['/no/such/binary'] });
  n.executor.setAssignments([tk]);
  // The runtime notices a failed runc create under conmon only at its create deadline (15 s) for now.
  const failed = await reached(n, tk.ID, 'failed', 45_000);
  t.regex(failed.Err!, /^starting container failed: .*no such file or directory/);
  t.is(failed.Message, 'starting');
  t.is(failed.ContainerStatus?.ExitCode, 127);
});

test('desired SHUTDOWN while the image is still being pulled: SHUTDOWN at once, no container made', async (t) => {
  let pulls = 0;
  const n = await node(t, async () => {
    pulls++;
    await new Promise((r) => setTimeout(r, 3000));
  });
  const tk = task({ command: ['true'], image: `127.0.0.1:1/${uniqueName()}:slow` });
  const twin = { ...task({ command: ['true'], image: tk.Spec.ContainerSpec!.Image }), ID: newId() };
  n.executor.setAssignments([tk, twin]);
  await reached(n, tk.ID, 'preparing');
  await reached(n, twin.ID, 'preparing');
  const asked = Date.now();
  n.executor.setAssignments([{ ...tk, DesiredState: 'shutdown' }, twin]);
  await reached(n, tk.ID, 'shutdown');
  t.true(Date.now() - asked < 1000, 'not held up by the pull');
  t.is(pulls, 1, 'one pull per image for both tasks');
  const rejected = await reached(n, twin.ID, 'rejected');
  t.regex(rejected.Err!, /^No such image: /);
  t.deepEqual(n.containers.list(), []);
});

// Alone (serial tests run first), so its start-up figure is not shared with the other tests.
test.serial('twenty tasks at once all reach RUNNING; leaving the set removes every container', async (t) => {
  const n = await node(t);
  const tasks = Array.from({ length: 20 }, () => task({ command: ['sleep', '300'], graceNs: 0 }));
  const started = Date.now();
  n.executor.setAssignments(tasks);
  for (const tk of tasks) await reached(n, tk.ID, 'running', 60_000);
  t.log(`20 tasks RUNNING ${Date.now() - started} ms after assignment`);
  t.is(n.containers.list().filter((r) => r.State.Running).length, 20);
  n.executor.setAssignments([]);
  await until(() => n.containers.list().length === 0, 30_000, 'every container removed');
  t.pass();
});

test('a task the managers gave up on (ORPHANED) keeps no running container; nothing more is reported', async (t) => {
  const n = await node(t);
  const tk = task({ command: ['sleep', '300'], graceNs: 0.2 * SECOND });
  n.executor.setAssignments([tk]);
  await reached(n, tk.ID, 'running');
  const before = reportsOf(n, tk.ID).length;
  n.executor.setAssignments([
    { ...tk, Status: { Timestamp: new Date().toISOString(), State: 'orphaned', Message: 'node down' } },
  ]);
  await until(() => !containerOf(n, tk.ID)!.State.Running, 10_000, 'container stopped');
  t.is(reportsOf(n, tk.ID).length, before);
});
