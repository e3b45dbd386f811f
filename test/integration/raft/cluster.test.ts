import test from 'ava';
import { join } from 'node:path';
import { freePort } from '../../support/net.js';
import { startKvNode, type KvNode } from '../../support/raft-kv.js';
import { tempDir } from '../../support/temp.js';
import { waitFor } from '../../support/daemon-process.js';

async function cluster(n: number, snapshotEvery?: number) {
  const dir = tempDir();
  const ports = await Promise.all(Array.from({ length: n }, () => freePort()));
  const members = ports.map((p, i) => ({ id: `m${i + 1}`, addr: `127.0.0.1:${p}` }));
  const nodes: KvNode[] = [];
  for (const [i, m] of members.entries()) {
    nodes.push(
      await startKvNode({
        id: m.id,
        dir: join(dir.path, m.id),
        port: ports[i],
        bootstrap: members,
        peers: members,
        snapshotEvery,
      }),
    );
  }
  const leader = async () => waitFor(async () => nodes.find((x) => x.node.isLeader), 10_000, 'a leader');
  /** A write through whoever leads now: on a loaded machine leadership may move between two writes. */
  const put = async (key: string, value: string) => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        return await (await leader()).put(key, value);
      } catch (err) {
        if ((err as { kind?: string }).kind !== 'Unavailable' || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  return { dir, members, ports, nodes, leader, put };
}

test('three nodes elect a leader, replicate writes, and a restarted member catches up from its WAL', async (t) => {
  const c = await cluster(3);
  try {
    const l = await c.leader();
    for (let i = 0; i < 50; i++) await c.put(`k${i}`, `v${i}`);
    await waitFor(async () => c.nodes.every((n) => n.sm.data.size === 50), 5000, 'replication');
    const follower = c.nodes.find((n) => n !== l)!;
    const idx = c.nodes.indexOf(follower);
    await follower.stop();
    for (let i = 50; i < 80; i++) await c.put(`k${i}`, `v${i}`);
    const again = await startKvNode({
      id: follower.id,
      dir: join(c.dir.path, follower.id),
      port: c.ports[idx],
      peers: c.members,
    });
    c.nodes[idx] = again;
    await waitFor(async () => again.sm.data.size === 80, 10_000, 'catch-up');
    t.is(again.sm.data.get('k79'), 'v79');
    // Reads through the barrier see every acknowledged write.
    await c.put('fresh', '1');
    await again.node.readBarrier();
    t.is(again.sm.data.get('fresh'), '1');
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('leader failover: writes continue on the new leader, nothing acknowledged is lost', async (t) => {
  const c = await cluster(3);
  try {
    const l = await c.leader();
    for (let i = 0; i < 20; i++) await c.put(`a${i}`, 'x');
    await l.stop();
    c.nodes.splice(c.nodes.indexOf(l), 1);
    const start = Date.now();
    const l2 = await c.leader();
    await l2.put('after', 'failover');
    t.log(`failover to first write: ${Date.now() - start} ms (tick 20 ms)`);
    for (const n of c.nodes) {
      await n.node.readBarrier().catch(() => undefined);
      await waitFor(async () => n.sm.data.get('after') === 'failover', 5000, 'write on survivor');
      for (let i = 0; i < 20; i++) t.is(n.sm.data.get(`a${i}`), 'x');
    }
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('a member far behind catches up through a snapshot; learners join and are promoted', async (t) => {
  const c = await cluster(3, 20);
  try {
    const l = await c.leader();
    const f = c.nodes.find((n) => n !== l)!;
    const idx = c.nodes.indexOf(f);
    await f.stop();
    for (let i = 0; i < 100; i++) await c.put(`s${i}`, `${i}`);
    const back = await startKvNode({
      id: f.id,
      dir: join(c.dir.path, f.id),
      port: c.ports[idx],
      peers: c.members,
      snapshotEvery: 20,
    });
    c.nodes[idx] = back;
    await waitFor(async () => back.sm.data.size === 100, 10_000, 'snapshot catch-up');
    // A fourth member joins as a learner, catches up, and becomes a voter.
    const port = await freePort();
    const joiner = await startKvNode({ id: 'm4', dir: join(c.dir.path, 'm4'), port, peers: c.members });
    c.nodes.push(joiner);
    await l.node.addLearner('m4', `127.0.0.1:${port}`);
    await waitFor(async () => joiner.sm.data.size === 100, 10_000, 'learner catch-up');
    await l.node.promote('m4');
    t.deepEqual(l.node.status().conf.voters, ['m1', 'm2', 'm3', 'm4']);
    await l.node.removeMember(f.id);
    t.deepEqual(
      l.node.status().conf.voters,
      ['m1', 'm2', 'm3', 'm4'].filter((x) => x !== f.id),
    );
    await c.put('last', '1');
    await waitFor(async () => joiner.sm.data.get('last') === '1', 5000, 'write after membership changes');
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('membership changes asked for at the same time are applied one after the other, none refused', async (t) => {
  const c = await cluster(3);
  try {
    const l = await c.leader();
    const joiners = await Promise.all(
      ['m4', 'm5'].map(async (id) => {
        const port = await freePort();
        const n = await startKvNode({ id, dir: join(c.dir.path, id), port, peers: c.members });
        c.nodes.push(n);
        return { id, addr: `127.0.0.1:${port}` };
      }),
    );
    // Two managers joining through the same leader in the same instant (as `swarm join` from two hosts).
    await Promise.all(joiners.map((j) => l.node.addLearner(j.id, j.addr)));
    t.deepEqual([...l.node.status().conf.learners].sort(), ['m4', 'm5']);
    await Promise.all(joiners.map((j) => l.node.promote(j.id)));
    t.deepEqual([...l.node.status().conf.voters].sort(), ['m1', 'm2', 'm3', 'm4', 'm5']);
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('a member restarting from a snapshot finds its peers from it, with no address list given', async (t) => {
  const c = await cluster(3, 20);
  try {
    const l = await c.leader();
    for (let i = 0; i < 60; i++) await c.put(`p${i}`, `${i}`);
    const f = c.nodes.find((n) => n !== l)!;
    const idx = c.nodes.indexOf(f);
    await waitFor(async () => f.sm.data.size === 60, 5000, 'replication');
    await f.stop();
    const again = await startKvNode({
      id: f.id,
      dir: join(c.dir.path, f.id),
      port: c.ports[idx],
      snapshotEvery: 20,
    });
    c.nodes[idx] = again;
    for (const m of c.members.filter((m) => m.id !== f.id)) t.is(again.transport.peerAddress(m.id), m.addr);
    await c.put('after', '1');
    await waitFor(async () => again.sm.data.get('after') === '1', 10_000, 'the restarted member caught up');
    // It answers too: with the first leader stopped, it and the third member elect a leader and commit.
    await l.stop();
    c.nodes.splice(c.nodes.indexOf(l), 1);
    await c.put('later', '1');
    await waitFor(async () => again.sm.data.get('later') === '1', 10_000, 'a write under the new leader');
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('bad input on the transport: malformed frames and messages from unknown members are dropped and counted', async (t) => {
  const c = await cluster(3);
  try {
    const l = await c.leader();
    const grpc = await import('@grpc/grpc-js');
    const { encode } = await import('../../../api/index.js');
    const client = new grpc.Client(`127.0.0.1:${l.port}`, grpc.credentials.createInsecure());
    const frames = [
      Buffer.from([0xc1, 0xff, 0x00]),
      encode({ type: 'app', from: 'intruder', to: l.id, term: 999, logTerm: 0, index: 0, commit: 0 }),
      encode({ nonsense: true }),
    ];
    await new Promise<void>((resolve) => {
      const s = client.makeClientStreamRequest(
        '/tsswarm.Raft/Send',
        (b: Buffer) => b,
        (b: Buffer) => b,
        () => resolve(),
      );
      for (const f of frames) s.write(f);
      s.end();
    });
    client.close();
    await waitFor(
      async () => l.transport.malformed >= 1 && l.node.status().droppedMessages >= 2,
      5000,
      'drops counted',
    );
    t.true(l.node.isLeader, 'the leader was not disturbed by a higher term from an unknown member');
    await c.put('still', 'works');
    t.is(l.sm.data.get('still'), 'works');
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('force-new-cluster: one surviving member restarts alone with every committed write and takes new ones', async (t) => {
  const c = await cluster(3, 40);
  try {
    await c.leader();
    for (let i = 0; i < 60; i++) await c.put(`k${i}`, `v${i}`);
    await waitFor(async () => c.nodes.every((n) => n.sm.data.size === 60), 5000, 'replication');
    for (const n of c.nodes) await n.stop();
    // Only m2 survives the disaster; it comes back alone from its snapshot + WAL.
    const dir = join(c.dir.path, 'm2');
    let alone = await startKvNode({
      id: 'm2',
      dir,
      port: c.ports[1],
      peers: c.members,
      forceNewCluster: true,
    });
    c.nodes = [alone];
    await waitFor(async () => alone.node.isLeader, 5000, 'the forced member to lead');
    t.deepEqual(alone.node.status().conf.voters, ['m2']);
    t.is(alone.sm.data.size, 60);
    await alone.put('after', 'force');
    // The new membership is durable: a plain restart is still a one-member cluster with all the data.
    await alone.stop();
    alone = await startKvNode({ id: 'm2', dir, port: c.ports[1] });
    c.nodes = [alone];
    await waitFor(async () => alone.node.isLeader, 5000, 'leader after a plain restart');
    t.is(alone.sm.data.get('after'), 'force');
    t.is(alone.sm.data.size, 61);
    await alone.put('again', '1');
  } finally {
    for (const n of c.nodes) await n.stop();
    c.dir.remove();
  }
});

test('force-new-cluster on a node without any log is refused with a clear error', async (t) => {
  const dir = tempDir();
  try {
    const err = await t.throwsAsync(startKvNode({ id: 'm1', dir: dir.path, forceNewCluster: true }));
    t.regex(err!.message, /force-new-cluster needs an existing Raft log/);
  } finally {
    dir.remove();
  }
});
