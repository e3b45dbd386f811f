import test from 'ava';
import { DEFAULT_SIM, Simulation } from './sim/simulator.js';

// SEED=n replays one seed exactly; SEEDS=n changes how many run.
const only = process.env.SEED ? [Number(process.env.SEED)] : undefined;
const count = Number(process.env.SEEDS ?? 300);

for (const nodes of [3, 5]) {
  test(`simulated ${nodes}-node clusters keep Raft's safety properties and lose no acknowledged proposal`, (t) => {
    const seeds = only ?? Array.from({ length: count }, (_, i) => i + 1 + nodes * 100_000);
    let proposals = 0;
    let acked = 0;
    for (const seed of seeds) {
      const sim = new Simulation(seed, { ...DEFAULT_SIM, nodes });
      try {
        for (let i = 0; i < sim.o.steps; i++) sim.step();
        const applied = sim.settle();
        for (const n of sim.cluster.nodes.values()) {
          if (n.applied.join(',') !== applied.join(','))
            throw new Error(`seed ${seed}: ${n.id} applied a different sequence`);
        }
        const set = new Set(applied);
        for (const a of sim.acked)
          if (!set.has(a)) throw new Error(`seed ${seed}: acknowledged proposal ${a} was lost`);
        proposals += sim.proposals;
        acked += sim.acked.size;
      } catch (err) {
        t.fail(
          `${(err as Error).message}\nreplay with: SEED=${seed} npx ava test/unit/raft/simulation.test.ts`,
        );
        return;
      }
    }
    t.log(`${seeds.length} seeds, ${proposals} proposals, ${acked} acknowledged`);
    t.true(acked > seeds.length, 'the simulation made progress');
  });
}
