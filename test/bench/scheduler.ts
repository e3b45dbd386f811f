// npm run bench:scheduler — placements per second of the pure scheduler, and single-task latency on a busy cluster.
import { loadavg } from 'node:os';
import { Scheduler } from '../../scheduler/index.js';
import type { Task, TaskSpec } from '../../api/index.js';
import { mkNode, mkTask } from '../support/cluster-fixtures.js';

const ZONES = ['a', 'b', 'c', 'd'];

function cluster(nodes: number): Scheduler {
  let seed = 42;
  const s = new Scheduler({ random: () => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296 });
  for (let i = 0; i < nodes; i++) {
    s.setNode(
      mkNode(`n${i}`, {
        labels: { zone: ZONES[i % ZONES.length]!, tier: i % 10 === 0 ? 'db' : 'web' },
        role: i % 50 === 0 ? 'manager' : 'worker',
      }),
    );
  }
  return s;
}

function pending(total: number, services: number, spec: TaskSpec): Task[] {
  const per = Math.ceil(total / services);
  const out: Task[] = [];
  for (let sv = 0; sv < services && out.length < total; sv++) {
    const shared = structuredClone(spec);
    for (let i = 0; i < per && out.length < total; i++) out.push(mkTask(`s${sv}-t${i}`, `s${sv}`, shared));
  }
  return out;
}

const VARIANTS: Record<string, TaskSpec> = {
  plain: {},
  constraint: {
    Placement: { Constraints: ['node.role==worker', 'node.labels.tier!=db'] },
    Resources: { Reservations: { NanoCPUs: 1e6, MemoryBytes: 1024 } },
  },
  spread: { Placement: { Preferences: [{ Spread: { SpreadDescriptor: 'node.labels.zone' } }] } },
};

const ROUNDS = 3;
const loadBefore = loadavg()[0]!.toFixed(2);
const rows: string[][] = [];
for (const nodes of [1000, 5000]) {
  for (const total of [10_000, 100_000]) {
    for (const services of [1, 1000]) {
      for (const [variant, spec] of Object.entries(VARIANTS)) {
        // Best of ROUNDS on a fresh cluster each time: the 2 cores are shared, so the best run is the one least
        // disturbed by other processes (the load average is printed with the table).
        let secs = Infinity;
        for (let round = 0; round < ROUNDS; round++) {
          const s = cluster(nodes);
          const tasks = pending(total, services, spec);
          const t0 = process.hrtime.bigint();
          const r = s.schedule(tasks);
          secs = Math.min(secs, Number(process.hrtime.bigint() - t0) / 1e9);
          if (r.assignments.length !== total) throw new Error(`placed ${r.assignments.length} of ${total}`);
        }
        rows.push([
          String(nodes),
          String(total),
          String(services),
          variant,
          (total / secs).toFixed(0),
          (secs * 1000).toFixed(1),
        ]);
      }
    }
  }
}

// Incremental: one task at a time onto a busy 5,000-node cluster (100,000 tasks already placed).
const busy = cluster(5000);
busy.schedule(pending(100_000, 1000, {}));
const lat: number[] = [];
for (let i = 0; i < 10_000; i++) {
  const t = mkTask(`inc${i}`, `s${i % 1000}`, i % 2 ? VARIANTS.constraint! : {});
  const t0 = process.hrtime.bigint();
  busy.schedule([t]);
  lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
}
lat.sort((a, b) => a - b);
const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;

const widths = [6, 8, 9, 11, 14, 8];
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
console.log(line(['nodes', 'tasks', 'services', 'variant', 'placements/s', 'ms']));
for (const r of rows) console.log(line(r));
console.log(
  `\nsingle task on a busy 5,000-node cluster (100,000 tasks, 10,000 samples): p50 ${pct(0.5).toFixed(3)} ms, p99 ${pct(0.99).toFixed(3)} ms`,
);
console.log(
  `1-minute load average on this 2-core machine: ${loadBefore} before, ${loadavg()[0]!.toFixed(2)} after`,
);
console.log(
  'reference: Kubernetes scheduler_perf thresholds 680-1,100 pods/s; targets >= 50,000 placements/s at 5,000 nodes, p99 <= 1 ms',
);
