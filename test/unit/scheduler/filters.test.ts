import test from 'ava';
import fc from 'fast-check';
import { Scheduler, parseConstraints } from '../../../scheduler/index.js';
import { InvalidArgument, type TaskSpec } from '../../../api/index.js';
import { mkNode, mkTask } from '../../support/cluster-fixtures.js';
import { rng } from '../../support/rng.js';

function sched(...nodes: ReturnType<typeof mkNode>[]) {
  const s = new Scheduler({ random: rng(1) });
  for (const n of nodes) s.setNode(n);
  return s;
}

const tasks = (n: number, spec: TaskSpec = {}, svc = 'svc') =>
  Array.from({ length: n }, (_, i) => mkTask(`${svc}-t${i}`, svc, spec));
const nodesOf = (r: ReturnType<Scheduler['schedule']>) => r.assignments.map((a) => a.nodeId);

test('ready filter: down, drained and paused nodes get nothing', (t) => {
  const s = sched(
    mkNode('a', { state: 'down' }),
    mkNode('b', { availability: 'drain' }),
    mkNode('c', { availability: 'pause' }),
    mkNode('d'),
  );
  const r = s.schedule(tasks(2));
  t.deepEqual(nodesOf(r), ['d', 'd']);
  const none = sched(mkNode('a', { state: 'down' }), mkNode('b', { availability: 'drain' })).schedule(
    tasks(1),
  );
  t.deepEqual(none.failures, [
    { taskId: 'svc-t0', reason: 'no suitable node (2 nodes not available for new tasks)' },
  ]);
  t.deepEqual(new Scheduler().schedule(tasks(1)).failures[0]!.reason, 'no suitable node');
});

test('resource filter: reservations never overcommit and the reason counts nodes', (t) => {
  const s = sched(mkNode('a', { cpus: 2, memory: 1024 ** 3 }), mkNode('b', { cpus: 1, memory: 1024 ** 3 }));
  const spec: TaskSpec = { Resources: { Reservations: { NanoCPUs: 1e9, MemoryBytes: 256 * 1024 ** 2 } } };
  const r = s.schedule(tasks(4, spec));
  t.is(r.assignments.length, 3);
  t.deepEqual(r.failures, [
    { taskId: 'svc-t3', reason: 'no suitable node (insufficient resources on 2 nodes)' },
  ]);
  const one = sched(mkNode('a', { memory: 1024 })).schedule(
    tasks(1, { Resources: { Reservations: { MemoryBytes: 4096 } } }),
  );
  t.is(one.failures[0]!.reason, 'no suitable node (insufficient resources on 1 node)');
});

test('generic resources are reserved per kind', (t) => {
  const s = sched(mkNode('a', { generic: { gpu: 2 } }), mkNode('b'));
  const spec: TaskSpec = {
    Resources: { Reservations: { GenericResources: [{ DiscreteResourceSpec: { Kind: 'gpu', Value: 1 } }] } },
  };
  const r = s.schedule(tasks(3, spec));
  t.deepEqual(nodesOf(r), ['a', 'a']);
  t.is(r.failures[0]!.reason, 'no suitable node (insufficient resources on 2 nodes)');
});

test('constraint filter on ids, hostnames, roles, platform, node and engine labels, ip', (t) => {
  const s = sched(
    mkNode('a', {
      role: 'manager',
      labels: { zone: 'east' },
      engineLabels: { disk: 'ssd' },
      addr: '198.18.1.5',
    }),
    mkNode('b', { labels: { zone: 'west' }, arch: 'aarch64', addr: '198.18.2.5' }),
  );
  const place = (c: string[]) =>
    nodesOf(s.schedule([mkTask(`x${Math.random()}`, 'c' + c.join(), { Placement: { Constraints: c } })]));
  t.deepEqual(place(['node.role==manager']), ['a']);
  t.deepEqual(place(['node.role!=manager']), ['b']);
  t.deepEqual(place(['node.id==b']), ['b']);
  t.deepEqual(place(['node.hostname==HOST-A']), ['a'], 'values compare case-insensitively');
  t.deepEqual(place(['node.labels.zone==west']), ['b']);
  t.deepEqual(place(['engine.labels.disk==ssd']), ['a']);
  t.deepEqual(place(['node.platform.arch==aarch64']), ['b']);
  t.deepEqual(place(['node.platform.os==linux', 'node.labels.zone!=west']), ['a']);
  t.deepEqual(place(['node.ip==198.18.2.0/24']), ['b']);
  t.deepEqual(place(['node.labels.missing==x']), []);
  const r = s.schedule([mkTask('y', 'svc2', { Placement: { Constraints: ['node.labels.zone==north'] } })]);
  t.is(r.failures[0]!.reason, 'no suitable node (scheduling constraints not satisfied on 2 nodes)');
});

test('platform filter matches image platforms with architecture aliases', (t) => {
  const s = sched(mkNode('a', { arch: 'x86_64' }), mkNode('b', { arch: 'aarch64' }));
  const arm = s.schedule([
    mkTask('t', 's', { Placement: { Platforms: [{ OS: 'linux', Architecture: 'arm64' }] } }),
  ]);
  t.deepEqual(nodesOf(arm), ['b']);
  const win = s.schedule([
    mkTask('w', 's2', { Placement: { Platforms: [{ OS: 'windows', Architecture: 'amd64' }] } }),
  ]);
  t.is(win.failures[0]!.reason, 'no suitable node (unsupported platform on 2 nodes)');
});

test('host-mode published ports: one task per node and port', (t) => {
  const s = sched(mkNode('a'), mkNode('b'));
  const withPort = (id: string) => ({
    ...mkTask(id, 'web', {}),
    Endpoint: {
      Spec: {},
      Ports: [
        { TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' as const, Protocol: 'tcp' as const },
      ],
    },
  });
  const r = s.schedule([withPort('1'), withPort('2'), withPort('3')]);
  t.deepEqual(nodesOf(r).sort(), ['a', 'b']);
  t.is(r.failures[0]!.reason, 'no suitable node (host-mode port already in use on 2 nodes)');
});

test('max replicas per node', (t) => {
  const s = sched(mkNode('a'), mkNode('b'));
  const r = s.schedule(tasks(5, { Placement: { MaxReplicas: 2 } }));
  t.is(r.assignments.length, 4);
  t.is(r.failures[0]!.reason, 'no suitable node (max replicas per node limit exceed)');
});

test('several filters: explanations listed from most to fewest nodes', (t) => {
  const s = sched(
    mkNode('a', { state: 'down' }),
    mkNode('b', { labels: { z: '1' } }),
    mkNode('c', { memory: 10 }),
    mkNode('d', { memory: 10 }),
  );
  const r = s.schedule(
    tasks(1, {
      Placement: { Constraints: ['node.labels.z!=1'] },
      Resources: { Reservations: { MemoryBytes: 100 } },
    }),
  );
  t.is(
    r.failures[0]!.reason,
    'no suitable node (insufficient resources on 2 nodes; 1 node not available for new tasks; scheduling constraints not satisfied on 1 node)',
  );
});

test('ranking: fewest tasks of the service first, then fewest tasks in total', (t) => {
  const s = sched(mkNode('a'), mkNode('b'), mkNode('c'));
  s.addTask(mkTask('o1', 'other', {}, 'a'));
  s.addTask(mkTask('o2', 'other', {}, 'a'));
  s.addTask(mkTask('o3', 'other', {}, 'b'));
  s.addTask(mkTask('w0', 'web', {}, 'c'));
  const r = s.schedule(tasks(2, {}, 'web'));
  t.deepEqual(nodesOf(r), ['b', 'a'], 'c already runs web; then b (1 task) before a (2 tasks)');
  s.removeTask('o1');
  s.removeTask('o2');
  s.removeTask('o3');
  const more = s.schedule(tasks(3, {}, 'web2'));
  t.deepEqual(nodesOf(more).sort(), ['a', 'b', 'c']);
});

test('spread preference over a label, nested', (t) => {
  const s = sched(
    mkNode('e1', { labels: { zone: 'east', rack: '1' } }),
    mkNode('e2', { labels: { zone: 'east', rack: '2' } }),
    mkNode('e3', { labels: { zone: 'east', rack: '2' } }),
    mkNode('w1', { labels: { zone: 'west', rack: '1' } }),
  );
  const spec: TaskSpec = {
    Placement: {
      Preferences: [
        { Spread: { SpreadDescriptor: 'node.labels.zone' } },
        { Spread: { SpreadDescriptor: 'node.labels.rack' } },
      ],
    },
  };
  const r = s.schedule(tasks(8, spec));
  const count = (ids: string[]) => nodesOf(r).filter((n) => ids.includes(n)).length;
  t.is(count(['e1', 'e2', 'e3']), 4);
  t.is(count(['w1']), 4);
  t.is(count(['e1']), 2, 'within east, rack 1 and rack 2 share evenly');
  t.is(count(['e2', 'e3']), 2);
});

test('a malformed constraint is an InvalidArgument quoting the expression', (t) => {
  const e1 = t.throws(() => parseConstraints(['node.role=manager']), { instanceOf: InvalidArgument });
  t.is(e1.message, 'invalid constraint "node.role=manager": constraint expected one operator from ==, !=');
  t.is(
    t.throws(() => parseConstraints(['no de==x']))!.message,
    `invalid constraint "no de==x": key 'no de' is invalid`,
  );
  t.is(
    t.throws(() => parseConstraints(['node.labels.a==x>1']))!.message,
    `invalid constraint "node.labels.a==x>1": value 'x>1' is invalid`,
  );
  const r = sched(mkNode('a')).schedule(tasks(1, { Placement: { Constraints: ['node.role=manager'] } }));
  t.is(
    r.failures[0]!.reason,
    'invalid constraint "node.role=manager": constraint expected one operator from ==, !=',
  );
});

test('incremental index: node updates and removals take effect without rebuilding', (t) => {
  const s = sched(mkNode('a'), mkNode('b'));
  s.setNode(mkNode('a', { availability: 'drain' }));
  t.deepEqual(nodesOf(s.schedule(tasks(2))), ['b', 'b']);
  s.removeNode('b');
  s.setNode(mkNode('a'));
  t.deepEqual(nodesOf(s.schedule(tasks(1, {}, 'z'))), ['a']);
  s.addTask(mkTask('early', 'q', { Resources: { Reservations: { NanoCPUs: 4e9 } } }, 'late'));
  s.setNode(mkNode('late', { cpus: 4 }));
  const r = s.schedule(tasks(1, { Resources: { Reservations: { NanoCPUs: 1e9 } } }, 'cpu'));
  t.deepEqual(nodesOf(r), ['a'], 'a task counted before its node was known still reserves its CPUs');
});

test('an RNG that repeats values (equal tie-break ranks) keeps the load index exact', (t) => {
  // Random add/remove histories on 4 nodes; afterwards one new task must land on a least loaded node.
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 5 })), { maxLength: 40 }),
      (ops) => {
        const s = new Scheduler({ random: () => 0.5 });
        const ids = ['a', 'b', 'c', 'd'];
        for (const id of ids) s.setNode(mkNode(id));
        const on = new Map<string, string>();
        for (const [node, task] of ops) {
          const id = `k${task}`;
          if (on.has(id)) {
            s.removeTask(id);
            on.delete(id);
          } else {
            s.addTask(mkTask(id, 'other', {}, ids[node]!));
            on.set(id, ids[node]!);
          }
        }
        const load = (n: string) => [...on.values()].filter((x) => x === n).length;
        const least = Math.min(...ids.map(load));
        const [placed] = nodesOf(s.schedule([mkTask('probe', 'probe', {})]));
        t.is(load(placed!), least);
      },
    ),
    { numRuns: 500 },
  );
});

test('spread descriptor prefixes are case-insensitive, label names are not', (t) => {
  const s = sched(
    mkNode('e1', { labels: { zone: 'east' } }),
    mkNode('e2', { labels: { zone: 'east' } }),
    mkNode('e3', { labels: { zone: 'east' } }),
    mkNode('w1', { labels: { zone: 'west' } }),
  );
  const spread = (d: string, svc: string) =>
    nodesOf(s.schedule(tasks(4, { Placement: { Preferences: [{ Spread: { SpreadDescriptor: d } }] } }, svc)));
  t.is(spread('Node.Labels.zone', 'upper').filter((n) => n === 'w1').length, 2, 'two zones: half go west');
  t.is(
    spread('node.labels.ZONE', 'other').filter((n) => n === 'w1').length,
    1,
    'no node has label ZONE: one branch, plain ranking',
  );
});
