// The task state machine's decisions (swarmkit's exec.Do): what a controller does for each pair of reached and
// desired state, where failures leave a task, how exits read, and that following the decisions only ever moves
// a task forward.
import test from 'ava';
import fc from 'fast-check';
import { TASK_STATES, taskStateRank, type TaskState } from '../../../api/index.js';
import {
  exitOutcome,
  failureState,
  laterState,
  nextStep,
  stateOfContainer,
  type Step,
} from '../../../worker/executor/task-steps.js';

test('desired RUNNING walks a task from ASSIGNED to RUNNING with Swarm messages, then waits on the container', (t) => {
  t.deepEqual(nextStep('assigned', 'running'), { kind: 'advance', to: 'accepted', message: 'accepted' });
  t.deepEqual(nextStep('new', 'running'), { kind: 'advance', to: 'accepted', message: 'accepted' });
  t.deepEqual(nextStep('accepted', 'running'), { kind: 'advance', to: 'preparing', message: 'preparing' });
  t.deepEqual(nextStep('preparing', 'running'), { kind: 'prepare' });
  t.deepEqual(nextStep('ready', 'running'), { kind: 'advance', to: 'starting', message: 'starting' });
  t.deepEqual(nextStep('starting', 'running'), { kind: 'start' });
  t.deepEqual(nextStep('running', 'running'), { kind: 'wait' });
});

test('terminal states hold whatever is desired; nothing is ever restarted', (t) => {
  for (const s of ['complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'] as TaskState[])
    for (const d of ['running', 'shutdown', 'remove', 'complete'] as TaskState[])
      t.deepEqual(nextStep(s, d), { kind: 'idle' }, `${s} with desired ${d}`);
});

test('desired SHUTDOWN or REMOVE stops any task that is not over yet, from any state', (t) => {
  for (const s of [
    'new',
    'assigned',
    'accepted',
    'preparing',
    'ready',
    'starting',
    'running',
  ] as TaskState[]) {
    t.deepEqual(nextStep(s, 'shutdown'), { kind: 'shutdown' });
    t.deepEqual(nextStep(s, 'remove'), { kind: 'shutdown' });
  }
});

test('desired READY prepares but does not start; a task beyond what is desired holds', (t) => {
  t.deepEqual(nextStep('accepted', 'ready'), { kind: 'advance', to: 'preparing', message: 'preparing' });
  t.deepEqual(nextStep('preparing', 'ready'), { kind: 'prepare' });
  t.deepEqual(nextStep('ready', 'ready'), { kind: 'idle' });
  t.deepEqual(nextStep('running', 'ready'), { kind: 'idle' });
  t.deepEqual(nextStep('assigned', 'assigned'), { kind: 'idle' });
});

test('desired COMPLETE (jobs) runs the task and waits for its exit', (t) => {
  t.deepEqual(nextStep('ready', 'complete'), { kind: 'advance', to: 'starting', message: 'starting' });
  t.deepEqual(nextStep('running', 'complete'), { kind: 'wait' });
});

test('a fatal error rejects a task before STARTING and fails it from STARTING on', (t) => {
  t.is(failureState('accepted'), 'rejected');
  t.is(failureState('preparing'), 'rejected');
  t.is(failureState('ready'), 'rejected');
  t.is(failureState('starting'), 'failed');
  t.is(failureState('running'), 'failed');
});

test("exits read as Docker's: 0 complete, non-zero failed with 'task: non-zero exit (N)', OOM 137, unhealthy", (t) => {
  t.deepEqual(exitOutcome({ exitCode: 0, oomKilled: false }), {
    state: 'complete',
    message: 'finished',
    exitCode: 0,
  });
  t.deepEqual(exitOutcome({ exitCode: 3, oomKilled: false }), {
    state: 'failed',
    message: 'started',
    err: 'task: non-zero exit (3)',
    exitCode: 3,
  });
  t.is(exitOutcome({ exitCode: 0, oomKilled: true }).err, 'task: non-zero exit (137)');
  t.is(exitOutcome({ exitCode: 137, oomKilled: true }).exitCode, 137);
  const unhealthy = exitOutcome({ exitCode: 143, oomKilled: false, unhealthy: true });
  t.is(unhealthy.state, 'failed');
  t.is(unhealthy.err, 'task: non-zero exit (143): unhealthy container');
  // Even a container that exits 0 once stopped for failing its health check failed the task.
  t.is(exitOutcome({ exitCode: 0, oomKilled: false, unhealthy: true }).state, 'failed');
});

test('a container found after a restart tells where its task got to', (t) => {
  const c = (status: string, exitCode = 0, health?: string, hasHealthcheck = false) =>
    stateOfContainer({ status, exitCode, health, hasHealthcheck });
  t.is(c('created'), 'ready');
  t.is(c('running'), 'running');
  t.is(c('running', 0, 'starting', true), 'starting');
  t.is(c('running', 0, 'healthy', true), 'running');
  t.is(c('exited', 0), 'complete');
  t.is(c('exited', 2), 'failed');
  t.is(laterState('assigned', 'running'), 'running');
  t.is(laterState('failed', 'running'), 'failed');
});

test('property: following nextStep from any state under any desired state only moves forward and stops', (t) => {
  // Every step's possible outcomes, as the controllers act on them.
  const outcomes = (s: TaskState, step: Step): TaskState[] => {
    switch (step.kind) {
      case 'idle':
        return [];
      case 'advance':
        return [step.to];
      case 'prepare':
        return ['ready', failureState(s)];
      case 'start':
        return ['running', 'complete', failureState(s)];
      case 'wait':
        return ['complete', 'failed'];
      case 'shutdown':
        return ['shutdown', failureState(s)];
    }
  };
  fc.assert(
    fc.property(
      fc.constantFrom(...TASK_STATES),
      fc.array(fc.tuple(fc.constantFrom(...TASK_STATES), fc.nat(2)), { maxLength: 40 }),
      (start, moves) => {
        let s = start;
        for (const [desired, pick] of moves) {
          const next = outcomes(s, nextStep(s, desired));
          if (!next.length) continue;
          const to = next[pick % next.length]!;
          if (taskStateRank(to) <= taskStateRank(s)) return false;
          s = to;
        }
        return true;
      },
    ),
  );
  t.pass();
});
