// Leader failover in the middle of `scale 50` (issue #9, test 3), in process: 3 managers and 2 workers with
// fake executors. The new leader's orchestrator and scheduler pick up where the old one stopped.
import test from 'ava';
import type { Node, Task } from '../../api/index.js';
import { serviceCluster, until } from '../support/service-cluster.js';

test('leader failover during scale 50: the service converges on the new leader, no duplicate slots, no needless restarts', async (t) => {
  t.timeout(120_000);
  // 60 ms per move: a task needs ~300 ms to run, so the scale is still under way when the leader goes.
  const c = await serviceCluster(2, { stepMs: 60 });
  try {
    const m2 = await c.addManager();
    const m3 = await c.addManager();
    await c.ready();
    const id = await c.createService({
      Name: 'web',
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '300'] },
        RestartPolicy: { Condition: 'any', Delay: 0 },
      },
      Mode: { Replicated: { Replicas: 5 } },
    });
    await until(() => c.running(id).length === 5, 10_000, '5 running');

    const s = c.store.view((tx) => tx.get('service', id))!;
    const res = await c.api.inject({
      method: 'POST',
      url: `/services/${id}/update?version=${s.Version.Index}`,
      payload: { ...s.Spec, Mode: { Replicated: { Replicas: 50 } } },
    });
    t.is(res.statusCode, 200, res.body);
    const old = c.nodes[0]!;
    await until(() => c.tasks(id).length >= 15, 10_000, 'the scale under way');
    t.log(`leader stopped with ${c.running(id).length} of 50 running`);
    // Tasks running on the nodes that stay: none of them may be restarted because the leader changed.
    const before = c
      .running(id)
      .filter((x) => x.NodeID !== old.id)
      .map((x) => x.ID);
    await old.swarm.stop();

    const store = m2.swarm.store();
    const leader = await until(
      () => store.view((tx) => tx.all('node')).find((n: Node) => n.ManagerStatus?.Leader && n.ID !== old.id),
      20_000,
      'a new leader',
    );
    t.true([m2.id, m3.id].includes(leader.ID));
    const running = (): Task[] =>
      store
        .view((tx) => tx.find('task', 'service', id))
        .filter((x: Task) => x.DesiredState === 'running' && x.Status.State === 'running');
    await until(
      () => running().length === 50 && !running().some((x) => x.NodeID === old.id),
      60_000,
      '50 running on the remaining nodes',
    ).catch((err: unknown) => {
      t.log(`running ${running().length}`);
      throw err;
    });
    const slots = running()
      .map((x) => x.Slot!)
      .sort((a, b) => a - b);
    t.deepEqual(
      slots,
      Array.from({ length: 50 }, (_, i) => i + 1),
      'slots 1..50, each once',
    );
    const runningIds = new Set(running().map((x) => x.ID));
    for (const gone of before.filter((x) => !runningIds.has(x))) {
      const task = store.view((tx) => tx.get('task', gone));
      const node = store.view((tx) => tx.get('node', task?.NodeID ?? ''));
      t.log(JSON.stringify([task?.DesiredState, task?.Status, node?.Status]));
    }
    t.deepEqual(
      before.filter((x) => !runningIds.has(x)),
      [],
      'tasks running before the failover still run',
    );
    const failed = store
      .view((tx) => tx.find('task', 'service', id))
      .filter((x: Task) => x.Status.State === 'failed' || x.Status.State === 'rejected');
    t.deepEqual(
      failed.map((x) => x.Status.Err),
      [],
      'nothing failed',
    );
  } finally {
    await c.stop();
  }
});
