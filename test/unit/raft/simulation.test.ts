import test from 'ava';
import { DEFAULT_SIM, Simulation, type SimOptions } from './sim/simulator.js';

// SEED=n replays one seed exactly; SEEDS=n changes how many run per profile and size.
const only = process.env.SEED ? [Number(process.env.SEED)] : undefined;
const count = Number(process.env.SEEDS ?? 300);

const PROFILES: { name: string; o: Partial<SimOptions>; seeds: number; sizes?: number[] }[] = [
  // Production settings: pre-vote, check-quorum, batched appends.
  { name: 'default', o: {}, seeds: count },
  // One entry per append and no check-quorum (stale leaders live on): exposes commit-rule (Figure 8) and
  // ReadIndex bugs that batching and leases otherwise hide.
  {
    name: 'unbatched, no check-quorum',
    o: {
      crashRate: 0.005,
      partitionRate: 0.02,
      raft: { maxSizePerMsg: 1, maxInflightMsgs: 4, checkQuorum: false },
    },
    seeds: Math.ceil(count / 2),
  },
  // 3 founding voters and 2 spares: the leader adds learners, promotes them and removes members (itself too).
  { name: 'membership changes', o: { founders: 3 }, seeds: Math.ceil(count / 2), sizes: [5] },
];

for (const profile of PROFILES) {
  for (const nodes of profile.sizes ?? [3, 5]) {
    test(`simulated ${nodes}-node clusters (${profile.name}) keep Raft's safety properties and lose no acknowledged proposal`, (t) => {
      const base = nodes * 100_000 + PROFILES.indexOf(profile) * 20_000;
      const seeds = only ?? Array.from({ length: profile.seeds }, (_, i) => base + i + 1);
      const totals = { proposals: 0, acked: 0, reads: 0, transfers: 0, confChanges: 0 };
      for (const seed of seeds) {
        const sim = new Simulation(seed, { ...DEFAULT_SIM, ...profile.o, nodes });
        try {
          for (let i = 0; i < sim.o.steps; i++) sim.step();
          const applied = sim.settle();
          for (const n of sim.members(sim.leader()!)) {
            if (n.applied.join(',') !== applied.join(','))
              throw new Error(`seed ${seed}: ${n.id} applied a different sequence`);
          }
          const set = new Set(applied);
          for (const a of sim.acked)
            if (!set.has(a)) throw new Error(`seed ${seed}: acknowledged proposal ${a} was lost`);
          totals.proposals += sim.proposals;
          totals.acked += sim.acked.size;
          totals.reads += sim.reads;
          totals.transfers += sim.transfers;
          totals.confChanges += sim.confChanges;
        } catch (err) {
          t.fail(
            `${(err as Error).message}\nreplay with: SEED=${seed} npx ava test/unit/raft/simulation.test.ts --match '*${nodes}-node*${profile.name}*'`,
          );
          return;
        }
      }
      t.log(
        `${seeds.length} seeds: ${totals.proposals} proposals, ${totals.acked} acknowledged, ${totals.reads} reads answered, ${totals.transfers} transfers, ${totals.confChanges} membership changes`,
      );
      t.true(totals.acked > seeds.length, 'the simulation made progress');
      if (!only)
        t.true(totals.reads > seeds.length && totals.transfers > 0, 'reads and transfers were exercised');
    });
  }
}
