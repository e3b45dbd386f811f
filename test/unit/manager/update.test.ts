import test from 'ava';
import { updateStep, newTask, isUpToDate } from '../../../manager/orchestrator/index.js';
import { withServiceDefaults, type Service, type Task, type UpdateConfig } from '../../../api/index.js';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();

function svc(image: string, update: UpdateConfig = {}, replicas = 3): Service {
  const spec = withServiceDefaults({
    Name: 'web',
    TaskTemplate: { ContainerSpec: { Image: image } },
    Mode: { Replicated: { Replicas: replicas } },
    UpdateConfig: update,
  });
  const prev = withServiceDefaults({
    Name: 'web',
    TaskTemplate: { ContainerSpec: { Image: 'old' } },
    Mode: { Replicated: { Replicas: replicas } },
  });
  return {
    ID: 's',
    Version: { Index: 5 },
    CreatedAt: iso(T0),
    UpdatedAt: iso(T0),
    Spec: spec,
    PreviousSpec: prev,
  };
}

function running(service: Service, slot: number, at: number, id = `t${slot}-${at}`): Task {
  const t = newTask(service, { slot }, iso(at), id);
  return { ...t, NodeID: 'n1', Status: { Timestamp: iso(at), State: 'running', Message: 'started' } };
}

test('no dirty slots and no update in progress: nothing to do', (t) => {
  const s = svc('v1');
  const step = updateStep(s, [running(s, 1, T0), running(s, 2, T0)], T0 + 1000);
  t.deepEqual(step, { create: [], update: [] });
});

test('stop-first with parallelism 1: one slot at a time, each monitored before the next, then completed', (t) => {
  const old = svc('old');
  const tasks = [1, 2, 3].map((i) => running(old, i, T0));
  const s = svc('v2', { Parallelism: 1, Monitor: 2e9 });
  let now = T0 + 1000;
  let step = updateStep(s, tasks, now);
  t.is(step.status!.State, 'updating');
  t.is(step.create.length, 1);
  t.is(step.create[0]!.Slot, 1);
  t.deepEqual(
    step.update.map((x) => `${x.Slot}:${x.DesiredState}`),
    ['1:shutdown'],
  );
  // The replacement is placed and prepared but held at READY while the old task stops.
  t.is(step.create[0]!.DesiredState, 'ready');
  const s2: Service = { ...s, UpdateStatus: step.status };
  const prepared = {
    ...step.create[0]!,
    NodeID: 'n1',
    Status: { ...step.create[0]!.Status, State: 'ready' as const, Timestamp: iso(now) },
  };
  const stopping = { ...tasks[0]!, DesiredState: 'shutdown' as const };
  let hold = updateStep(s2, [stopping, tasks[1]!, tasks[2]!, prepared], now + 100);
  t.deepEqual(hold.update, [], 'not started while the old task still runs');
  t.is(hold.create.length, 0);
  t.true(hold.wakeInMs! > 0, 'woken to give up waiting on an old task that never reports');
  const stopped = { ...stopping, Status: { ...stopping.Status, State: 'shutdown' as const } };
  hold = updateStep(s2, [stopped, tasks[1]!, tasks[2]!, prepared], now + 200);
  t.deepEqual(
    hold.update.map((x) => `${x.ID}:${x.DesiredState}`),
    [`${prepared.ID}:running`],
    'told to run once the old task stopped',
  );
  // Apply: the new one runs from now.
  const slot1 = {
    ...prepared,
    DesiredState: 'running' as const,
    Status: { ...prepared.Status, State: 'running' as const, Timestamp: iso(now) },
  };
  let state = [stopped, tasks[1]!, tasks[2]!, slot1];
  now += 1000;
  step = updateStep(s2, state, now);
  t.is(step.create.length, 0, 'slot 1 is still in its monitor period');
  t.is(step.wakeInMs, 1000);
  now += 1000;
  step = updateStep(s2, state, now);
  t.is(step.create[0]!.Slot, 2, 'after the monitor period the next slot starts');
  // Finish the remaining slots instantly and let them settle.
  state = state.filter((x) => x.Slot === 1).concat([2, 3].map((i) => running(s, i, now, `new${i}`)));
  step = updateStep(s2, state, now + 2000);
  t.is(step.status!.State, 'completed');
  t.is(step.status!.Message, 'update completed');
});

test('start-first keeps the old task until the new one runs', (t) => {
  const old = svc('old', {}, 1);
  const s = svc('v2', { Order: 'start-first' }, 1);
  const first = updateStep(s, [running(old, 1, T0)], T0 + 10);
  t.is(first.create.length, 1);
  t.is(first.update.length, 0, 'nothing stops before the new task runs');
  const us = { ...s, UpdateStatus: first.status };
  const fresh = {
    ...first.create[0]!,
    Status: { ...first.create[0]!.Status, State: 'running' as const, Timestamp: iso(T0 + 20) },
  };
  const second = updateStep(us, [running(old, 1, T0), fresh], T0 + 30);
  t.deepEqual(
    second.update.map((x) => `${x.Spec.ContainerSpec!.Image}:${x.DesiredState}`),
    ['old:shutdown'],
  );
});

test('a new task failing within its monitor period: pause, or roll back when asked', (t) => {
  const old = svc('old');
  for (const [action, expected] of [
    ['pause', 'paused'],
    ['rollback', 'rollback_started'],
  ] as const) {
    const s: Service = {
      ...svc('bad', { FailureAction: action }),
      UpdateStatus: { State: 'updating', StartedAt: iso(T0) },
    };
    const broken = {
      ...running(s, 1, T0 + 100, 'broken'),
      Status: {
        Timestamp: iso(T0 + 500),
        State: 'failed' as const,
        Message: 'exit',
        ContainerStatus: { ContainerID: 'c', PID: 0, ExitCode: 1 },
      },
    };
    const step = updateStep(s, [broken, running(old, 2, T0), running(old, 3, T0)], T0 + 1000);
    t.is(step.status!.State, expected);
    t.regex(step.status!.Message!, /due to failure or early termination of task broken$/);
    t.is(step.rollback, action === 'rollback' ? true : undefined);
    t.is(step.create.length, 0);
  }
  const cont: Service = {
    ...svc('bad', { FailureAction: 'continue' }),
    UpdateStatus: { State: 'updating', StartedAt: iso(T0) },
  };
  const broken = {
    ...running(cont, 1, T0 + 100, 'broken'),
    Status: { Timestamp: iso(T0 + 500), State: 'failed' as const, Message: 'exit' },
  };
  t.is(updateStep(cont, [broken, running(old, 2, T0)], T0 + 1000).status, undefined);
});

test('a rollback completes as rollback_completed; paused updates wait for the user', (t) => {
  const s: Service = { ...svc('old'), UpdateStatus: { State: 'rollback_started', StartedAt: iso(T0) } };
  const settled = [1, 2, 3].map((i) => running(s, i, T0 + 10));
  const step = updateStep(s, settled, T0 + 60_000);
  t.is(step.status!.State, 'rollback_completed');
  t.is(step.status!.Message, 'rollback completed');
  const paused: Service = { ...svc('v2'), UpdateStatus: { State: 'paused', StartedAt: iso(T0) } };
  t.deepEqual(updateStep(paused, [running(svc('old'), 1, T0)], T0 + 1), { create: [], update: [] });
});

test('update delay waits between batches', (t) => {
  const old = svc('old', {}, 2);
  const s: Service = {
    ...svc('v2', { Delay: 10e9, Monitor: 1e9 }, 2),
    UpdateStatus: { State: 'updating', StartedAt: iso(T0) },
  };
  const slot1 = running(s, 1, T0 + 100);
  const step = updateStep(s, [slot1, running(old, 2, T0)], T0 + 2000);
  t.is(step.create.length, 0);
  t.is(step.wakeInMs, 100 + 1000 + 10_000 - 2000);
  t.is(updateStep(s, [slot1, running(old, 2, T0)], T0 + 11_200).create[0]!.Slot, 2);
});

test('a change of published ports or endpoint mode makes tasks out of date; defaults spelled out do not', (t) => {
  const s = svc('new');
  const task = newTask(s, { slot: 1 }, iso(T0));
  t.true(isUpToDate(s, task));
  t.true(isUpToDate({ ...s, Spec: { ...s.Spec, EndpointSpec: { Mode: 'vip' } } }, task));
  const published = {
    ...s,
    Spec: { ...s.Spec, EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } },
  };
  t.false(isUpToDate(published, task));
  const again = newTask(published, { slot: 1 }, iso(T0));
  t.true(
    isUpToDate(
      {
        ...s,
        Spec: {
          ...s.Spec,
          EndpointSpec: {
            Mode: 'vip',
            Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }],
          },
        },
      },
      again,
    ),
  );
  t.false(isUpToDate({ ...s, Spec: { ...s.Spec, EndpointSpec: { Mode: 'dnsrr' } } }, task));
});
