// The fake executor control-plane tests use: the same walk and wording as the real one, desired SHUTDOWN and
// REMOVE, fail()/exits, rejected images, tasks leaving the set, and stop/start keeping what runs.
import test from 'ava';
import type { Task, TaskState } from '../../../api/index.js';
import { FakeExecutor, type TaskStatusReport } from '../../../worker/index.js';

function task(id: string, over: Partial<Task> = {}, image = 'busybox:local'): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '2026-01-01T00:00:00Z',
    UpdatedAt: '2026-01-01T00:00:00Z',
    ServiceID: 'svc1',
    Slot: 1,
    Spec: { ContainerSpec: { Image: image } },
    Status: { Timestamp: '2026-01-01T00:00:00Z', State: 'assigned', Message: '' },
    DesiredState: 'running',
    ...over,
  };
}

async function setup(o: ConstructorParameters<typeof FakeExecutor>[0] = {}) {
  const ex = new FakeExecutor({ stepMs: 1, ...o });
  const reports: TaskStatusReport[] = [];
  ex.onStatus((r) => reports.push(r));
  await ex.start();
  const states = (id: string) => reports.filter((r) => r.taskId === id).map((r) => r.status.State);
  const until = async (id: string, state: TaskState) => {
    for (let i = 0; i < 400 && !states(id).includes(state); i++) await new Promise((r) => setTimeout(r, 5));
    return reports.find((r) => r.taskId === id && r.status.State === state)?.status;
  };
  return { ex, reports, states, until };
}

test('tasks walk to RUNNING with Swarm messages and show in running()', async (t) => {
  const { ex, reports, states, until } = await setup();
  ex.setAssignments([task('a'), task('b', { Slot: 2 })]);
  await until('a', 'running');
  await until('b', 'running');
  t.deepEqual(states('a'), ['accepted', 'preparing', 'ready', 'starting', 'running']);
  t.deepEqual(
    reports.filter((r) => r.taskId === 'a').map((r) => r.status.Message),
    ['accepted', 'preparing', 'prepared', 'starting', 'started'],
  );
  t.deepEqual(
    ex
      .running()
      .map((r) => r.taskId)
      .sort(),
    ['a', 'b'],
  );
  t.truthy(reports.find((r) => r.status.State === 'running')?.status.ContainerStatus?.ContainerID);
  await ex.stop();
});

test('desired SHUTDOWN → SHUTDOWN; REMOVE → SHUTDOWN; a task leaving the set is forgotten without a report', async (t) => {
  const { ex, states, until } = await setup();
  const a = task('a');
  const b = task('b');
  const c = task('c');
  ex.setAssignments([a, b, c]);
  await until('c', 'running');
  ex.setAssignments([{ ...a, DesiredState: 'shutdown' }, { ...b, DesiredState: 'remove' }, c]);
  t.is((await until('a', 'shutdown'))?.Message, 'shutdown');
  await until('b', 'shutdown');
  ex.setAssignments([]);
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(ex.tasks(), []);
  t.is(states('c').at(-1), 'running');
  await ex.stop();
});

test("fail(): non-zero → FAILED 'task: non-zero exit (N)'; 0 → COMPLETE; never restarted", async (t) => {
  const { ex, states, until } = await setup();
  ex.setAssignments([task('a'), task('b')]);
  await until('a', 'running');
  await until('b', 'running');
  t.true(ex.fail('a', 2));
  t.true(ex.fail('b', 0));
  const failed = await until('a', 'failed');
  t.is(failed?.Err, 'task: non-zero exit (2)');
  t.is(failed?.ContainerStatus?.ExitCode, 2);
  t.is((await until('b', 'complete'))?.Message, 'finished');
  t.false(ex.fail('a', 1), 'a finished task cannot fail again');
  ex.setAssignments([task('a'), task('b')]);
  await new Promise((r) => setTimeout(r, 20));
  t.deepEqual(ex.running(), []);
  t.is(states('a').at(-1), 'failed');
  await ex.stop();
});

test('rejectImages(): tasks of that image are REJECTED "No such image" while preparing', async (t) => {
  const { ex, states, until } = await setup();
  ex.rejectImages('nope:1');
  ex.setAssignments([task('a', {}, 'nope:1'), task('b')]);
  const rejected = await until('a', 'rejected');
  t.is(rejected?.Err, 'No such image: nope:1');
  t.deepEqual(states('a'), ['accepted', 'preparing', 'rejected']);
  await until('b', 'running');
  await ex.stop();
});

test('exitAfter: job tasks run to completion by themselves', async (t) => {
  const { ex, until } = await setup({ exitAfter: () => ({ ms: 5 }) });
  ex.setAssignments([task('a', { DesiredState: 'complete' })]);
  t.is((await until('a', 'complete'))?.State, 'complete');
  await ex.stop();
});

test('stop() freezes, start() resumes; tasks the managers already know as RUNNING stay running', async (t) => {
  const { ex, states, until } = await setup({ stepMs: 20 });
  ex.setAssignments([
    task('a'),
    task('b', { Status: { Timestamp: '', State: 'running', Message: 'started' } }),
  ]);
  await ex.stop();
  await new Promise((r) => setTimeout(r, 50));
  t.deepEqual(states('a'), []);
  await ex.start();
  await until('a', 'running');
  t.deepEqual(states('b'), []);
  t.deepEqual(
    ex
      .running()
      .map((r) => r.taskId)
      .sort(),
    ['a', 'b'],
  );
  await ex.stop();
});
