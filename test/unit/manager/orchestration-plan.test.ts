import test from 'ava';
import type { Service, Task, TaskState } from '../../../api/index.js';
import { planOrchestration } from '../../../manager/orchestrator/index.js';
import { AssignmentTracker, forNode } from '../../../manager/dispatcher/index.js';
import { mkNode } from '../../support/cluster-fixtures.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const spec = { ContainerSpec: { Image: 'busybox:local' } };

function service(id: string, replicas: number, restart: Record<string, unknown> = { Delay: 0 }): Service {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: {
      Name: id,
      TaskTemplate: { ...spec, RestartPolicy: restart },
      Mode: { Replicated: { Replicas: replicas } },
    },
  } as Service;
}

function task(
  id: string,
  svc: Service,
  slot: number,
  node: string,
  state: TaskState,
  at = NOW - 60_000,
): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: new Date(at).toISOString(),
    UpdatedAt: '',
    Spec: svc.Spec.TaskTemplate,
    ServiceID: svc.ID,
    Slot: slot,
    NodeID: node,
    Status: { Timestamp: new Date(at).toISOString(), State: state, Message: '' },
    DesiredState: 'running',
  };
}

const ready = [mkNode('n1', { state: 'ready' }), mkNode('n2', { state: 'ready' })];

test('a settled service needs nothing', (t) => {
  const s = service('s', 2);
  const plan = planOrchestration(
    [s],
    [task('a', s, 1, 'n1', 'running'), task('b', s, 2, 'n2', 'running')],
    ready,
    5,
    NOW,
  );
  t.deepEqual(plan, { create: [], desired: [], delete: [], services: [] });
});

test('missing replicas are created in free slots; surplus ones are removed', (t) => {
  const s = service('s', 3);
  const plan = planOrchestration([s], [task('a', s, 1, 'n1', 'running')], ready, 5, NOW);
  t.deepEqual(
    plan.create.map((x) => x.Slot),
    [2, 3],
  );
  const fewer = planOrchestration(
    [service('s', 1)],
    [task('a', s, 1, 'n1', 'running'), task('b', s, 2, 'n1', 'running')],
    ready,
    5,
    NOW,
  );
  t.deepEqual(
    fewer.desired.map((x) => [x.ID, x.DesiredState]),
    [['b', 'remove']],
  );
});

test('a failed task is replaced in its slot once the restart delay has passed', (t) => {
  const s = service('s', 1, { Delay: 10e9 });
  const failed = task('a', s, 1, 'n1', 'failed', NOW - 3000);
  const early = planOrchestration([s], [failed], ready, 5, NOW);
  t.is(early.create.length, 0);
  t.is(early.wakeInMs, 7000);
  const due = planOrchestration([s], [failed], ready, 5, NOW + 7000);
  t.deepEqual(
    due.create.map((x) => x.Slot),
    [1],
  );
  t.deepEqual(
    due.desired.map((x) => [x.ID, x.DesiredState]),
    [['a', 'shutdown']],
  );
});

test('restart condition none leaves a finished task alone and does not refill its slot', (t) => {
  const s = service('s', 1, { Condition: 'none' });
  const plan = planOrchestration([s], [task('a', s, 1, 'n1', 'complete')], ready, 5, NOW);
  t.is(plan.create.length + plan.desired.length, 0);
});

test('tasks on a down node are replaced at once', (t) => {
  const s = service('s', 2);
  const nodes = [mkNode('n1', { state: 'ready' }), mkNode('n2', { state: 'down' })];
  const plan = planOrchestration(
    [s],
    [task('a', s, 1, 'n1', 'running'), task('b', s, 2, 'n2', 'running')],
    nodes,
    5,
    NOW,
  );
  t.deepEqual(
    plan.create.map((x) => x.Slot),
    [2],
  );
  t.deepEqual(
    plan.desired.map((x) => [x.ID, x.DesiredState]),
    [['b', 'shutdown']],
  );
});

test('a removed service’s tasks: unplaced ones deleted, placed ones told to go, gone ones on down nodes deleted', (t) => {
  const s = service('s', 2);
  const unplaced = { ...task('u', s, 1, 'n1', 'pending'), NodeID: undefined };
  const placed = task('p', s, 2, 'n1', 'running');
  const lost = { ...task('l', s, 3, 'gone', 'running'), DesiredState: 'remove' as const };
  const plan = planOrchestration([], [unplaced, placed, lost], ready, 5, NOW);
  t.deepEqual(plan.delete.sort(), ['l', 'u']);
  t.deepEqual(
    plan.desired.map((x) => [x.ID, x.DesiredState]),
    [['p', 'remove']],
  );
});

test('history beyond the retention limit is reaped', (t) => {
  const s = service('s', 1);
  const old = [1, 2, 3].map((i) => ({
    ...task(`h${i}`, s, 1, 'n1', 'failed', NOW - i * 1000),
    DesiredState: 'shutdown' as const,
  }));
  const plan = planOrchestration([s], [task('a', s, 1, 'n1', 'running'), ...old], ready, 1, NOW);
  t.deepEqual(plan.delete.sort(), ['h2', 'h3']);
});

test('assignments: the full set first, then only new tasks, desired-state changes and removals', (t) => {
  const s = service('s', 2);
  const tracker = new AssignmentTracker('n1');
  const a = task('a', s, 1, 'n1', 'assigned');
  const pending = { ...task('p', s, 2, 'n1', 'pending') };
  const elsewhere = task('e', s, 3, 'n2', 'running');
  t.deepEqual(
    tracker.full([a, pending, elsewhere]).tasks.map((x) => x.ID),
    ['a'],
  );
  t.is(
    tracker.changes(new Map([['a', { ...a, Status: { ...a.Status, State: 'running' } }]])),
    undefined,
    'status-only: not echoed',
  );
  const stop = { ...a, DesiredState: 'shutdown' as const };
  t.deepEqual(
    tracker.changes(new Map([['a', stop]]))?.tasks.map((x) => x.DesiredState),
    ['shutdown'],
  );
  const placed = { ...pending, Status: { ...pending.Status, State: 'assigned' as const } };
  t.deepEqual(
    tracker.changes(new Map([['p', placed]]))?.tasks.map((x) => x.ID),
    ['p'],
  );
  t.deepEqual(tracker.changes(new Map([['a', undefined]]))?.removed, ['a']);
  t.is(forNode(a, 'web').Labels?.['com.docker.swarm.service.name'], 'web');
});

test('tasks leave a drained node and a node that no longer matches the constraints', (t) => {
  const s = service('s', 3);
  s.Spec.TaskTemplate.Placement = { Constraints: ['node.labels.zone==a'] };
  const nodes = [
    mkNode('n1', { state: 'ready', labels: { zone: 'a' } }),
    mkNode('n2', { state: 'ready', labels: { zone: 'a' }, availability: 'drain' }),
    mkNode('n3', { state: 'ready', labels: { zone: 'b' } }),
  ];
  const plan = planOrchestration(
    [s],
    [task('a', s, 1, 'n1', 'running'), task('b', s, 2, 'n2', 'running'), task('c', s, 3, 'n3', 'running')],
    nodes,
    5,
    NOW,
  );
  t.deepEqual(plan.desired.map((x) => x.ID).sort(), ['b', 'c']);
  t.deepEqual(plan.create.map((x) => x.Slot).sort(), [2, 3]);
});

test('replicated job: at most MaxConcurrent at once until TotalCompletions succeeded', (t) => {
  const s = {
    ...service('j', 0),
    Spec: {
      Name: 'j',
      TaskTemplate: { ...spec, RestartPolicy: { Condition: 'on-failure', Delay: 0 } },
      Mode: { ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 } },
    },
    JobStatus: { JobIteration: { Index: 0 } },
  } as Service;
  const first = planOrchestration([s], [], ready, 5, NOW);
  t.deepEqual(
    first.create.map((x) => x.Slot),
    [1, 2],
  );
  const done = (id: string, slot: number) => ({
    ...task(id, s, slot, 'n1', 'complete'),
    JobIteration: { Index: 0 },
  });
  const running = (id: string, slot: number) => ({
    ...task(id, s, slot, 'n1', 'running'),
    JobIteration: { Index: 0 },
  });
  const next = planOrchestration([s], [done('a', 1), running('b', 2)], ready, 5, NOW);
  t.deepEqual(
    next.create.map((x) => x.Slot),
    [3],
  );
  const all = [1, 2, 3, 4, 5].map((i) => done(`t${i}`, i));
  t.is(planOrchestration([s], all, ready, 5, NOW).create.length, 0, 'complete');
});
