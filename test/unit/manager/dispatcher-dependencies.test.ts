// Which secrets and configs a node is given: only those its tasks (ASSIGNED..RUNNING) reference; sent with the
// task that first needs them, taken back when the last task using them ends or leaves the node.
import test from 'ava';
import type { Config, Secret, Task, TaskState } from '../../../api/index.js';
import {
  AssignmentTracker,
  dependenciesOf,
  type DependencyLookup,
} from '../../../manager/dispatcher/index.js';

function task(
  id: string,
  node: string,
  state: TaskState,
  secrets: string[] = [],
  configs: string[] = [],
): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    ServiceID: 'svc',
    Slot: 1,
    NodeID: node,
    Spec: {
      ContainerSpec: {
        Image: 'busybox:local',
        Secrets: secrets.map((s) => ({ SecretID: s, SecretName: `name-${s}` })),
        Configs: configs.map((c) => ({ ConfigID: c, ConfigName: `name-${c}` })),
      },
    },
    Status: { Timestamp: '', State: state, Message: '' },
    DesiredState: 'running',
  };
}

const secret = (id: string): Secret => ({
  ID: id,
  Version: { Index: 1 },
  CreatedAt: '',
  UpdatedAt: '',
  Spec: { Name: `name-${id}`, Data: Buffer.from(`data of ${id}`).toString('base64') },
});
const config = (id: string): Config => ({ ...secret(id), Spec: { Name: `name-${id}`, Data: 'Y29uZg==' } });

const STORE: DependencyLookup = {
  secret: (id) => (id.startsWith('s') ? secret(id) : undefined),
  config: (id) => (id.startsWith('c') ? config(id) : undefined),
};

const ids = (xs: { ID: string }[] | undefined) => (xs ?? []).map((x) => x.ID).sort();

test('dependenciesOf: references of the node own tasks from ASSIGNED to RUNNING only', (t) => {
  const deps = dependenciesOf(
    [
      task('a', 'n1', 'assigned', ['s1'], ['c1']),
      task('b', 'n1', 'running', ['s2', 's1']),
      task('c', 'n1', 'pending', ['s3']),
      task('d', 'n1', 'complete', ['s4']),
      task('e', 'n1', 'failed', [], ['c2']),
      task('f', 'n2', 'running', ['s5'], ['c3']),
    ],
    'n1',
  );
  t.deepEqual([...deps.secrets].sort(), ['s1', 's2']);
  t.deepEqual([...deps.configs], ['c1']);
});

test('the full set carries the secrets and configs of the node tasks and nothing of other nodes', (t) => {
  const tracker = new AssignmentTracker('n1', STORE);
  const full = tracker.full([
    task('a', 'n1', 'running', ['s1'], ['c1']),
    task('b', 'n2', 'running', ['s2'], ['c2']),
    task('c', 'n1', 'shutdown', ['s3']),
  ]);
  t.true(full.full);
  t.deepEqual(ids(full.secrets), ['s1']);
  t.deepEqual(ids(full.configs), ['c1']);
  t.is(full.secrets?.[0]?.Spec.Data, Buffer.from('data of s1').toString('base64'));
});

test('a secret arrives with the first task needing it, is not sent twice, and goes with the last task using it', (t) => {
  const tracker = new AssignmentTracker('n1', STORE);
  tracker.full([]);
  const a = task('a', 'n1', 'assigned', ['s1']);
  const first = tracker.changes(new Map([['a', a]]));
  t.deepEqual(ids(first?.tasks), ['a']);
  t.deepEqual(ids(first?.secrets), ['s1']);

  const b = task('b', 'n1', 'assigned', ['s1', 's2']);
  const second = tracker.changes(new Map([['b', b]]));
  t.deepEqual(ids(second?.secrets), ['s2'], 's1 is there already');

  // a ends (a status-only change): s1 stays for b.
  t.is(tracker.changes(new Map([['a', { ...a, Status: { ...a.Status, State: 'complete' } }]])), undefined);

  // b fails: nothing on the node needs s1 or s2 any more, although no task was re-sent.
  const gone = tracker.changes(new Map([['b', { ...b, Status: { ...b.Status, State: 'failed' } }]]));
  t.deepEqual(gone?.tasks, []);
  t.deepEqual(gone?.removedSecrets?.sort(), ['s1', 's2']);
});

test('a task moving to another node or deleted takes its configs back; a missing object is not sent', (t) => {
  const tracker = new AssignmentTracker('n1', STORE);
  const a = task('a', 'n1', 'running', ['x-missing'], ['c1']);
  const full = tracker.full([a]);
  t.deepEqual(ids(full.secrets), [], 'a secret the store does not have is not invented');
  t.deepEqual(ids(full.configs), ['c1']);
  const moved = tracker.changes(new Map([['a', { ...a, NodeID: 'n2' }]]));
  t.deepEqual(moved?.removed, ['a']);
  t.deepEqual(moved?.removedConfigs, ['c1']);
  t.is(moved?.removedSecrets, undefined);
  const b = task('b', 'n1', 'running', [], ['c2']);
  tracker.changes(new Map([['b', b]]));
  t.deepEqual(tracker.changes(new Map([['b', undefined]]))?.removedConfigs, ['c2']);
});

test('a new session starts from nothing: the full set sends everything needed again', (t) => {
  const tracker = new AssignmentTracker('n1', STORE);
  const a = task('a', 'n1', 'running', ['s1']);
  tracker.full([a]);
  t.deepEqual(ids(tracker.full([a]).secrets), ['s1']);
});
