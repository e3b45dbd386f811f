import test from 'ava';
import type { TaskStatus } from '../../../api/index.js';
import { TaskReports } from '../../../worker/task-reports.js';
import type { TaskStatusReport } from '../../../worker/executor/executor.js';

const status = (State: string) =>
  ({ Timestamp: '2026-01-01T00:00:00Z', State, Message: State }) as TaskStatus;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('reports go out batched, the latest per task; a failed task is sent at once', async (t) => {
  const sent: TaskStatusReport[][] = [];
  const reports = new TaskReports(async (u) => void sent.push(u));
  reports.add({ taskId: 't1', status: status('starting') });
  reports.add({ taskId: 't1', status: status('running') });
  await sleep(20);
  t.is(sent.length, 0, 'a RUNNING report waits for the batch');
  reports.add({ taskId: 't2', status: status('failed') });
  await sleep(20);
  t.deepEqual(
    sent.map((b) => b.map((u) => `${u.taskId}:${u.status.State}`)),
    [['t1:running', 't2:failed']],
  );
  reports.stop();
});

test('a failed send is kept and retried, unless a newer report replaced it', async (t) => {
  const sent: string[] = [];
  let fail = true;
  const reports = new TaskReports(async (u) => {
    if (fail) throw new Error('no leader');
    sent.push(...u.map((x) => `${x.taskId}:${x.status.State}`));
  });
  reports.add({ taskId: 't1', status: status('complete') });
  reports.add({ taskId: 't2', status: status('shutdown') });
  await sleep(20);
  fail = false;
  reports.add({ taskId: 't2', status: status('failed') });
  await sleep(1_200);
  t.deepEqual(sent.sort(), ['t1:complete', 't2:failed']);
  reports.stop();
});
