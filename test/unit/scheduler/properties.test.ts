import test from 'ava';
import fc from 'fast-check';
import { Scheduler, nodeMatches, parseConstraints } from '../../../scheduler/index.js';
import type { Node, TaskSpec } from '../../../api/index.js';
import { mkNode, mkTask } from '../../support/cluster-fixtures.js';

const RUNS = { numRuns: 1000 };

const arbNode = fc.record({
  state: fc.constantFrom<Node['Status']['State']>('ready', 'ready', 'ready', 'down'),
  availability: fc.constantFrom<Node['Spec']['Availability']>('active', 'active', 'active', 'drain', 'pause'),
  zone: fc.constantFrom('a', 'b', 'c'),
  role: fc.constantFrom<Node['Spec']['Role']>('worker', 'manager'),
  cpus: fc.integer({ min: 1, max: 8 }),
  memGiB: fc.integer({ min: 1, max: 16 }),
});
const arbCluster = fc.array(arbNode, { minLength: 0, maxLength: 25 }).map((ns) =>
  ns.map((n, i) =>
    mkNode(`n${i}`, {
      state: n.state,
      availability: n.availability,
      role: n.role,
      labels: { zone: n.zone },
      cpus: n.cpus,
      memory: n.memGiB * 1024 ** 3,
    }),
  ),
);
const arbConstraint = fc.constantFrom<string[]>(
  [],
  ['node.role==worker'],
  ['node.labels.zone!=c'],
  ['node.role==manager', 'node.labels.zone==a'],
);

function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return a / 4294967296;
  };
}

function build(nodes: Node[], seed = 7): Scheduler {
  const s = new Scheduler({ random: seeded(seed) });
  for (const n of nodes) s.setNode(n);
  return s;
}

const tasksOf = (n: number, spec: TaskSpec, svc = 'svc') =>
  Array.from({ length: n }, (_, i) => mkTask(`${svc}-${i}`, svc, spec));
const isReady = (n: Node) => n.Status.State === 'ready' && n.Spec.Availability === 'active';

test('never places on a node that fails a filter', (t) => {
  fc.assert(
    fc.property(arbCluster, arbConstraint, fc.integer({ min: 0, max: 40 }), (nodes, constraints, k) => {
      const r = build(nodes).schedule(tasksOf(k, { Placement: { Constraints: constraints } }));
      const parsed = parseConstraints(constraints);
      const byId = new Map(nodes.map((n) => [n.ID, n]));
      return (
        r.assignments.every(
          (a) => isReady(byId.get(a.nodeId)!) && nodeMatches(parsed, byId.get(a.nodeId)!),
        ) && r.assignments.length + r.failures.length === k
      );
    }),
    RUNS,
  );
  t.pass();
});

test('never overcommits reserved resources', (t) => {
  fc.assert(
    fc.property(
      arbCluster,
      fc.integer({ min: 0, max: 60 }),
      fc.integer({ min: 1, max: 3000 }),
      fc.integer({ min: 1, max: 4096 }),
      fc.integer({ min: 0, max: 10 }),
      (nodes, k, milliCpu, mib, existing) => {
        const s = build(nodes);
        const spec: TaskSpec = {
          Resources: { Reservations: { NanoCPUs: milliCpu * 1e6, MemoryBytes: mib * 1024 ** 2 } },
        };
        // Some load already counted on the first node.
        if (nodes[0])
          for (let i = 0; i < existing; i++) s.addTask(mkTask(`old${i}`, 'old', spec, nodes[0].ID));
        const r = s.schedule(tasksOf(k, spec));
        const per = new Map<string, number>();
        for (const a of r.assignments) per.set(a.nodeId, (per.get(a.nodeId) ?? 0) + 1);
        if (nodes[0]) per.set(nodes[0].ID, (per.get(nodes[0].ID) ?? 0) + existing);
        return nodes.every((n) => {
          const c = per.get(n.ID) ?? 0;
          const placedHere = c - (n === nodes[0] ? existing : 0);
          if (placedHere === 0) return true;
          return (
            c * milliCpu * 1e6 <= n.Description.Resources.NanoCPUs &&
            c * mib * 1024 ** 2 <= n.Description.Resources.MemoryBytes
          );
        });
      },
    ),
    RUNS,
  );
  t.pass();
});

test('without preferences, per-node counts of a service differ by at most 1 among eligible nodes', (t) => {
  fc.assert(
    fc.property(arbCluster, arbConstraint, fc.integer({ min: 0, max: 80 }), (nodes, constraints, k) => {
      const r = build(nodes).schedule(tasksOf(k, { Placement: { Constraints: constraints } }));
      const parsed = parseConstraints(constraints);
      const eligible = nodes.filter((n) => isReady(n) && nodeMatches(parsed, n));
      const counts = eligible.map((n) => r.assignments.filter((a) => a.nodeId === n.ID).length);
      return counts.length === 0 || Math.max(...counts) - Math.min(...counts) <= 1;
    }),
    RUNS,
  );
  t.pass();
});

test('with spread over a label, per-value counts differ by at most 1', (t) => {
  fc.assert(
    fc.property(arbCluster, fc.integer({ min: 0, max: 80 }), (nodes, k) => {
      const spec: TaskSpec = {
        Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] },
      };
      const r = build(nodes).schedule(tasksOf(k, spec));
      const zones = [...new Set(nodes.filter(isReady).map((n) => n.Spec.Labels!.zone!))];
      const zoneOf = new Map(nodes.map((n) => [n.ID, n.Spec.Labels!.zone!]));
      const counts = zones.map((z) => r.assignments.filter((a) => zoneOf.get(a.nodeId) === z).length);
      return counts.length === 0 || Math.max(...counts) - Math.min(...counts) <= 1;
    }),
    RUNS,
  );
  t.pass();
});

test('same input and seed give the same placements', (t) => {
  fc.assert(
    fc.property(
      arbCluster,
      arbConstraint,
      fc.integer({ min: 0, max: 50 }),
      fc.integer(),
      (nodes, constraints, k, seed) => {
        const spec: TaskSpec = { Placement: { Constraints: constraints } };
        const a = build(nodes, seed).schedule(tasksOf(k, spec));
        const b = build(nodes, seed).schedule(tasksOf(k, spec));
        return JSON.stringify(a) === JSON.stringify(b);
      },
    ),
    RUNS,
  );
  t.pass();
});
