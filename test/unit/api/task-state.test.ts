import test from 'ava';
import { TASK_STATES, canMoveTo, isTerminal, isTaskState } from '../../../api/index.js';

test('states are ordered as swarmkit and a task only moves forward', (t) => {
  t.deepEqual(TASK_STATES.slice(0, 8), [
    'new',
    'pending',
    'assigned',
    'accepted',
    'preparing',
    'ready',
    'starting',
    'running',
  ]);
  t.true(canMoveTo('new', 'pending'));
  t.true(canMoveTo('assigned', 'running'));
  t.true(canMoveTo('running', 'failed'));
  t.false(canMoveTo('running', 'running'));
  t.false(canMoveTo('running', 'starting'));
  t.false(canMoveTo('failed', 'running'));
  t.false(canMoveTo('shutdown', 'new'));
});

test('every pair of distinct states allows exactly one direction', (t) => {
  for (const a of TASK_STATES) {
    for (const b of TASK_STATES) {
      if (a === b) continue;
      t.not(canMoveTo(a, b), canMoveTo(b, a), `${a} <-> ${b}`);
    }
  }
});

test('terminal states and the state guard', (t) => {
  t.false(isTerminal('running'));
  t.true(isTerminal('complete'));
  t.true(isTerminal('rejected'));
  t.true(isTaskState('orphaned'));
  t.false(isTaskState('RUNNING'));
  t.false(isTaskState(3));
});
