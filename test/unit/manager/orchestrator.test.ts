import test from 'ava';
import {
  reconcileReplicated,
  restartDecision,
  tasksToReap,
  newTask,
} from '../../../manager/orchestrator/index.js';
import {
  withServiceDefaults,
  type Node,
  type Service,
  type Task,
  type TaskState,
} from '../../../api/index.js';

const NOW = '2026-01-01T00:00:00.000Z';

function service(
  replicas: number,
  restart: Partial<NonNullable<Service['Spec']['TaskTemplate']['RestartPolicy']>> = {},
): Service {
  return {
    ID: 'svc',
    Version: { Index: 1 },
    CreatedAt: NOW,
    UpdatedAt: NOW,
    Spec: withServiceDefaults({
      Name: 'web',
      TaskTemplate: { ContainerSpec: { Image: 'busybox' }, RestartPolicy: restart },
      Mode: { Replicated: { Replicas: replicas } },
    }),
  };
}

function node(id: string, state: Node['Status']['State'] = 'ready'): Node {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: NOW,
    UpdatedAt: NOW,
    Spec: { Role: 'worker', Availability: 'active' },
    Description: {
      Hostname: id,
      Platform: {},
      Resources: { NanoCPUs: 0, MemoryBytes: 0 },
      Engine: { EngineVersion: '' },
    },
    Status: { State: state, Addr: '' },
  };
}

let seq = 0;
function task(
  slot: number,
  nodeId: string,
  state: TaskState = 'running',
  desired: TaskState = 'running',
  ts = NOW,
): Task {
  const t = newTask(service(1), { slot }, NOW, `t${slot}-${nodeId}-${state}-${seq++}`);
  return {
    ...t,
    NodeID: nodeId,
    DesiredState: desired,
    Status: { ...t.Status, State: state, Timestamp: ts },
  };
}

const nodes = new Map([
  ['a', node('a')],
  ['b', node('b')],
  ['c', node('c', 'down')],
]);

test('scale up fills the lowest free slots', (t) => {
  const r = reconcileReplicated(service(4), [task(1, 'a'), task(3, 'b')], nodes, NOW);
  t.deepEqual(
    r.create.map((x) => x.Slot),
    [2, 4],
  );
  t.true(
    r.create.every((x) => x.Status.State === 'new' && x.DesiredState === 'running' && x.ServiceID === 'svc'),
  );
  t.is(r.update.length, 0);
});

test('scale down removes slots on down nodes, then not-running ones, then the busiest node', (t) => {
  const tasks = [task(1, 'a'), task(2, 'a'), task(3, 'b'), task(4, 'c'), task(5, 'b', 'starting')];
  const r = reconcileReplicated(service(2), tasks, nodes, NOW);
  t.deepEqual(
    r.update.map((x) => x.Slot),
    [4, 5, 2],
  );
  t.true(r.update.every((x) => x.DesiredState === 'remove'));
  t.is(r.create.length, 0);
});

test('history tasks do not count as slots; a failed task still meant to run keeps its slot', (t) => {
  const tasks = [task(1, 'a', 'failed', 'shutdown'), task(1, 'b'), task(2, 'a', 'failed', 'running')];
  const r = reconcileReplicated(service(2), tasks, nodes, NOW);
  t.is(r.create.length, 0);
  t.is(r.update.length, 0);
});

test('restart policy: any, on-failure, none, max attempts within a window, jobs that complete', (t) => {
  const now = Date.parse(NOW);
  const failed = {
    ...task(1, 'a', 'failed'),
    Status: {
      ...task(1, 'a').Status,
      State: 'failed' as const,
      ContainerStatus: { ContainerID: 'c', PID: 0, ExitCode: 1 },
    },
  };
  const clean = {
    ...task(1, 'a', 'complete'),
    Status: {
      ...task(1, 'a').Status,
      State: 'complete' as const,
      ContainerStatus: { ContainerID: 'c', PID: 0, ExitCode: 0 },
    },
  };
  t.deepEqual(restartDecision(service(1), failed, [], now), {
    restart: true,
    delayMs: 5000,
    reason: 'task failed',
  });
  t.true(restartDecision(service(1), clean, [], now).restart);
  t.false(restartDecision(service(1, { Condition: 'on-failure' }), clean, [], now).restart);
  t.true(restartDecision(service(1, { Condition: 'on-failure', Delay: 0 }), failed, [], now).restart);
  t.is(
    restartDecision(service(1, { Condition: 'none' }), failed, [], now).reason,
    'restart condition is none',
  );
  const history = [
    task(1, 'a', 'failed', 'shutdown', '2025-12-31T23:59:50.000Z'),
    task(1, 'b', 'failed', 'shutdown', '2025-12-31T23:00:00.000Z'),
  ];
  const limited = service(1, { MaxAttempts: 2, Window: 60e9 });
  t.true(
    restartDecision(limited, failed, history, now).restart,
    'only one earlier attempt falls in the window',
  );
  t.false(
    restartDecision(service(1, { MaxAttempts: 2 }), failed, history, now).restart,
    'no window: all attempts count',
  );
  const job = {
    ...service(1),
    Spec: { ...service(1).Spec, Mode: { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } } },
  };
  t.false(restartDecision(job, clean, [], now).restart);
  t.true(
    restartDecision(service(1, { Condition: 'none' }), task(1, 'c'), [], now, true).restart,
    'tasks on down nodes are always replaced',
  );
});

test('reaper keeps the newest history per slot and deletes stopped tasks marked for removal', (t) => {
  const hist = (i: number) => task(1, 'a', 'failed', 'shutdown', `2026-01-01T00:00:0${i}.000Z`);
  const tasks = [
    task(1, 'a'),
    hist(1),
    hist(2),
    hist(3),
    hist(4),
    task(2, 'b', 'shutdown', 'remove'),
    task(3, 'b', 'running', 'remove'),
  ];
  const reaped = tasksToReap(tasks, 2).map((x) => `${x.Slot}@${x.Status.Timestamp.slice(17, 19)}`);
  t.deepEqual(reaped.sort(), ['1@01', '1@02', '2@00']);
  t.is(tasksToReap(tasks, -1).length, 1, 'negative limit keeps all history');
});

test('global: one task per ready active node; drained nodes lose theirs, paused keep them, departed nodes are cleaned', async (t) => {
  const { reconcileGlobal } = await import('../../../manager/orchestrator/index.js');
  const svc = { ...service(1), Spec: { ...service(1).Spec, Mode: { Global: {} } } };
  const drained = { ...node('d'), Spec: { Role: 'worker' as const, Availability: 'drain' as const } };
  const paused = { ...node('p'), Spec: { Role: 'worker' as const, Availability: 'pause' as const } };
  const onNode = (id: string) => ({
    ...newTask(svc, { nodeId: id }, NOW, `g-${id}`),
    Status: { Timestamp: NOW, State: 'running' as const, Message: '' },
  });
  const r = reconcileGlobal(
    svc,
    [onNode('a'), onNode('d'), onNode('p'), onNode('gone')],
    [node('a'), node('b'), node('c', 'down'), drained, paused],
    () => true,
    NOW,
  );
  t.deepEqual(
    r.create.map((x) => x.NodeID),
    ['b'],
  );
  t.deepEqual(
    r.update.map((x) => `${x.NodeID}:${x.DesiredState}`),
    ['d:shutdown', 'gone:remove'],
  );
  const constrained = reconcileGlobal(svc, [onNode('a')], [node('a'), node('b')], (n) => n.ID !== 'a', NOW);
  t.deepEqual(
    constrained.update.map((x) => x.NodeID),
    ['a'],
  );
  t.deepEqual(
    constrained.create.map((x) => x.NodeID),
    ['b'],
  );
});
