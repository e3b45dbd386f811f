import test from 'ava';
import { checkKvHistory, type KvOp } from '../../support/linearizability.js';
import { KvProcessCluster, httpJson } from '../../support/kv-cluster-processes.js';
import { waitFor } from '../../support/daemon-process.js';

// The history check is exponential in the worst case and runs synchronously (no test timeout can stop it):
// clients pause between operations so a bounded history still spans every kill round.
const MAX_OPS = 2500;
const PAUSE_MS = 15;

test('3 processes, leader and follower SIGKILLed and restarted: the history is linearizable and no acknowledged write is lost', async (t) => {
  t.timeout(120_000);
  const c = await KvProcessCluster.start(3, 200);
  const ops: KvOp[] = [];
  const acked: { key: string; value: string }[] = [];
  let stop = false;
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const client = async (clientId: number) => {
    let n = 0;
    // Bounded in time (the kill rounds) and in count (the history checker's work grows with it).
    while (!stop && ops.length < MAX_OPS) {
      await new Promise((r) => setTimeout(r, PAUSE_MS));
      const key = `k${Math.floor(Math.random() * 4)}`;
      const m = c.members[Math.floor(Math.random() * c.members.length)]!;
      if (!m.child) continue;
      const call = now();
      if (Math.random() < 0.5) {
        const value = `c${clientId}-${n++}`;
        const r = await httpJson(m.httpPort, `/put?key=${key}&value=${value}`, 3000).catch(() => undefined);
        const ok = r?.status === 200;
        // A write refused before it was proposed never happened; any other failure has an unknown outcome.
        if (!ok && r?.body.notLeader) continue;
        ops.push({ clientId, kind: 'put', key, value, call, return: ok ? now() : Infinity });
        if (ok) acked.push({ key, value });
      } else {
        const r = await httpJson(m.httpPort, `/get?key=${key}`, 3000).catch(() => undefined);
        if (r?.status === 200)
          ops.push({
            clientId,
            kind: 'get',
            key,
            output: (r.body.value as string | null) ?? undefined,
            call,
            return: now(),
          });
      }
    }
  };
  const clients = Array.from({ length: 6 }, (_, i) => client(i));
  let kills = 0;
  try {
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 1500));
      const victim =
        round % 2 === 0 ? await c.leader() : c.members.find((m) => m.child && m !== c.members[0])!;
      await c.kill(victim);
      kills++;
      await new Promise((r) => setTimeout(r, 800));
      await c.startMember(victim);
    }
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  try {
    // Final reads of every key, after everything settled.
    const leader = await c.leader();
    for (const key of ['k0', 'k1', 'k2', 'k3']) {
      const call = now();
      const r = await httpJson(leader.httpPort, `/get?key=${key}`);
      t.is(r.status, 200);
      ops.push({
        clientId: 99,
        kind: 'get',
        key,
        output: (r.body.value as string | null) ?? undefined,
        call,
        return: now(),
      });
    }
    const result = checkKvHistory(ops);
    t.true(result.ok, result.detail);
    t.log(`${ops.length} operations, ${acked.length} acknowledged writes, ${kills} kills`);
    t.true(acked.length > 50, 'the cluster made progress through the kills');
    // Every acknowledged write reaches the log of every member once the restarted ones have caught up (each
    // acknowledged write is one entry, so a member's commit index must reach at least their count).
    for (const m of c.members) {
      let commit = 0;
      await waitFor(
        async () => {
          commit = (await httpJson(m.httpPort, '/status')).body.commit as number;
          return commit >= acked.length;
        },
        15_000,
        `${m.id} to commit every acknowledged write`,
      ).catch(() => undefined);
      t.true(commit >= acked.length, `${m.id} commit ${commit} < ${acked.length} acknowledged writes`);
    }
  } finally {
    await c.stop();
  }
});

test('a member SIGKILLed right after acknowledging a write still has it after restart', async (t) => {
  t.timeout(60_000);
  const c = await KvProcessCluster.start(1);
  try {
    const m = c.members[0]!;
    await c.leader();
    for (let i = 0; i < 20; i++) t.is((await httpJson(m.httpPort, `/put?key=d${i}&value=v${i}`)).status, 200);
    await c.kill(m);
    await c.startMember(m);
    await c.leader();
    for (let i = 0; i < 20; i++) t.is((await httpJson(m.httpPort, `/get?key=d${i}`)).body.value, `v${i}`);
  } finally {
    await c.stop();
  }
});
