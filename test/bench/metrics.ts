// npm run bench:metrics — time of a /metrics scrape on a manager whose store holds BENCH_TASKS tasks (default
// 10,000) of BENCH_SERVICES services on 100 nodes. The store is an in-process replica fed by a log (no Raft, no
// executor: the collectors only read the replica). Each measured scrape follows one task change, so the counts
// are recomputed every time; the cached scrape (nothing changed) and a cloning `view(all tasks)` are the
// anchors. Prints p50/p95/max in ms.
import { Registry, collectDefaultMetrics } from 'prom-client';
import { TASK_STATES, type Service } from '../../api/index.js';
import { ManagerMetrics } from '../../manager/metrics/index.js';
import { MemoryStore, batchUpdate, type BatchUnit } from '../../manager/store/index.js';
import { LogProposer } from '../support/log-proposer.js';
import { mkNode, mkTask } from '../support/cluster-fixtures.js';

const TASKS = Number(process.env.BENCH_TASKS ?? 10_000);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 50);

function stats(ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!.toFixed(2);
  return `p50 ${at(0.5)} ms  p95 ${at(0.95)} ms  max ${s[s.length - 1]!.toFixed(2)} ms`;
}

async function time(fn: () => unknown | Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function main(): Promise<void> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const metrics = new ManagerMetrics(registry);
  const proposer = new LogProposer();
  const store = new MemoryStore({ proposer, observer: metrics.storeObserver });
  proposer.replicas.push(store);
  const units: BatchUnit[] = [];
  for (let n = 0; n < 100; n++) units.push((tx) => tx.create('node', mkNode(`node${n}`)));
  for (let s = 0; s < SERVICES; s++) {
    const svc: Service = {
      ID: `svc${s}`,
      Version: { Index: 0 },
      CreatedAt: '',
      UpdatedAt: '',
      Spec: { Name: `service-${s}`, TaskTemplate: { ContainerSpec: { Image: 'busybox:local' } } },
    };
    units.push((tx) => tx.create('service', svc));
  }
  for (let i = 0; i < TASKS; i++) {
    const t = mkTask(`task${i}`, `svc${i % SERVICES}`, {}, `node${i % 100}`);
    t.Slot = Math.floor(i / SERVICES) + 1;
    t.Status = { Timestamp: '', State: TASK_STATES[i % 3 === 0 ? 9 : 7]!, Message: '' };
    units.push((tx) => tx.create('task', t));
  }
  await batchUpdate(store, units);
  metrics.attach({
    store,
    isLeader: true,
    onLeaderChange: () => () => undefined,
    raft: { status: () => ({ term: 1, commit: store.lastApplied, applied: store.lastApplied }) },
  });
  const first = await time(() => registry.metrics());
  const bytes = (await registry.metrics()).length;
  const fresh: number[] = [];
  const cached: number[] = [];
  const clone: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    await store.update((tx) => {
      const t = tx.get('task', `task${r}`)!;
      t.Status = { ...t.Status, Message: `round ${r}` };
      tx.update('task', t);
    });
    fresh.push(await time(() => registry.metrics()));
    cached.push(await time(() => registry.metrics()));
    clone.push(await time(() => store.view((tx) => tx.all('task').length)));
  }
  process.stdout.write(
    `/metrics with ${TASKS} tasks, ${SERVICES} services, 100 nodes (${bytes} bytes of text)\n` +
      `  first scrape:                       ${first.toFixed(2)} ms\n` +
      `  scrape after a store change:        ${stats(fresh)}\n` +
      `  scrape, store unchanged (cached):   ${stats(cached)}\n` +
      `  anchor: view(tx.all('task')) copy:  ${stats(clone)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:metrics: ${String(err)}\n`);
  process.exitCode = 1;
});
