import test from 'ava';
import { InvalidArgument, PermissionDenied } from '../../../api/index.js';
import { StatusBatcher, validateUpdates } from '../../../manager/dispatcher/status-updates.js';
import { storeCluster } from '../../support/log-proposer.js';
import { mkTask } from '../../support/cluster-fixtures.js';

const status = (State: string) => ({ Timestamp: '2026-01-01T00:00:00Z', State, Message: State });

test('malformed status reports are refused with a clear error', (t) => {
  t.throws(() => validateUpdates({}), { instanceOf: InvalidArgument, message: /updates must be a list/ });
  t.throws(() => validateUpdates({ updates: [{ taskId: 't1', status: status('dancing') }] }), {
    instanceOf: InvalidArgument,
    message: /each update needs a taskId and a valid status/,
  });
  t.is(validateUpdates({ updates: [{ taskId: 't1', status: status('running') }] }).length, 1);
});

test('reports are written forward only, and only by the node the task is on', async (t) => {
  const { store } = storeCluster();
  await store.update((tx) =>
    tx.create('task', { ...mkTask('t1', 's1', {}, 'n1'), Status: status('assigned') } as never),
  );
  const b = new StatusBatcher(store);
  t.throws(() => b.submit('n2', [{ taskId: 't1', status: status('running') as never }]), {
    instanceOf: PermissionDenied,
  });
  await b.submit('n1', [{ taskId: 't1', status: status('running') as never }]);
  t.is(store.view((tx) => tx.get('task', 't1'))!.Status.State, 'running');
  await b.submit('n1', [{ taskId: 't1', status: status('starting') as never }]);
  t.is(store.view((tx) => tx.get('task', 't1'))!.Status.State, 'running', 'never backwards');
  b.stop();
});

test('a batch holding a failed task is written within ~10 ms, a RUNNING one waits for the ~100 ms batch', async (t) => {
  const { store } = storeCluster();
  await store.update((tx) => {
    tx.create('task', { ...mkTask('t1', 's1', {}, 'n1'), Status: status('starting') } as never);
    tx.create('task', { ...mkTask('t2', 's1', {}, 'n1'), Status: status('running') } as never);
  });
  const b = new StatusBatcher(store);
  const stateOf = (id: string) => store.view((tx) => tx.get('task', id))!.Status.State;
  void b.submit('n1', [{ taskId: 't1', status: status('running') as never }]);
  await new Promise((r) => setTimeout(r, 40));
  t.is(stateOf('t1'), 'starting', 'a plain report waits for its batch');
  const failed = b.submit('n1', [{ taskId: 't2', status: status('failed') as never }]);
  await new Promise((r) => setTimeout(r, 40));
  t.is(stateOf('t2'), 'failed', 'the failure went out early');
  t.is(stateOf('t1'), 'running', 'and took the waiting report with it');
  await failed;
  b.stop();
});
