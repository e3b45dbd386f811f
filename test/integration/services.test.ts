// The control plane of services in one process: a manager and two workers (real mTLS, real Raft, real
// dispatcher sessions on loopback) with fake executors. Orchestrator, scheduler, dispatcher assignments and
// status reports are the product's; only the containers are simulated.
import test from 'ava';
import { serviceCluster as cluster, until } from '../support/service-cluster.js';

/** `web`: 3 replicas of `sleep 300`, restarted at once whenever they stop. */
function webService(extra: object = {}): object {
  return {
    Name: 'web',
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '300'] },
      RestartPolicy: { Condition: 'any', Delay: 0 },
    },
    Mode: { Replicated: { Replicas: 3 } },
    ...extra,
  };
}

test('replicated service: placed across nodes, scaled up and down, failed tasks replaced, a dead node’s tasks moved, removal cleans up', async (t) => {
  t.timeout(90_000);
  const c = await cluster(2);
  try {
    await until(
      () => c.store.view((tx) => tx.all('node')).filter((n) => n.Status.State === 'ready').length === 3,
      10_000,
      '3 ready nodes',
    );
    const create = await c.api.inject({
      method: 'POST',
      url: '/services/create',
      payload: webService(),
    });
    t.is(create.statusCode, 201, create.body);
    const id = create.json<{ ID: string }>().ID;
    const started = Date.now();
    await until(() => c.running(id).length === 3, 10_000, '3 running tasks').catch((err: unknown) => {
      t.log(JSON.stringify(c.tasks(id).map((x) => [x.Slot, x.NodeID, x.Status, x.DesiredState])));
      t.log(JSON.stringify(c.nodes.map((n) => n.executor.tasks())));
      throw err;
    });
    t.log(`3 replicas running ${Date.now() - started} ms after create`);
    t.deepEqual(
      c
        .running(id)
        .map((x) => x.Slot)
        .sort(),
      [1, 2, 3],
    );
    t.is(new Set(c.running(id).map((x) => x.NodeID)).size, 3, 'spread over the 3 nodes');
    const onNodes = () => c.nodes.reduce((n, x) => n + x.executor.running().length, 0);
    t.is(onNodes(), 3);
    const scale = async (replicas: number) => {
      const s = c.store.view((tx) => tx.get('service', id))!;
      const res = await c.api.inject({
        method: 'POST',
        url: `/services/${id}/update?version=${s.Version.Index}`,
        payload: { ...s.Spec, Mode: { Replicated: { Replicas: replicas } } },
      });
      t.is(res.statusCode, 200, res.body);
    };
    await scale(7);
    await until(() => c.running(id).length === 7 && onNodes() === 7, 10_000, '7 running');
    await scale(2);
    await until(() => c.running(id).length === 2 && onNodes() === 2, 10_000, 'scaled down to 2');

    // A task that fails is replaced in its slot (restart condition any, no delay).
    const victim = c.running(id)[0]!;
    const owner = c.nodes.find((n) => n.id === victim.NodeID)!;
    t.true(owner.executor.fail(victim.ID, 3));
    await until(
      () => c.tasks(id).find((x) => x.ID === victim.ID)?.Status.State === 'failed',
      5000,
      'the failure reported',
    );
    await until(
      () =>
        c.running(id).length === 2 && c.running(id).some((x) => x.Slot === victim.Slot && x.ID !== victim.ID),
      10_000,
      'a replacement in the same slot',
    );
    const failed = c.tasks(id).find((x) => x.ID === victim.ID)!;
    t.is(failed.Status.ContainerStatus?.ExitCode, 3);
    t.is(failed.DesiredState, 'shutdown');

    // A worker dies: its node goes down after 3 missed heartbeats and its tasks move to live nodes.
    await scale(3);
    await until(() => c.running(id).length === 3, 10_000, '3 running again');
    const dead = c.nodes[2]!;
    await dead.swarm.stop();
    await until(
      () => c.store.view((tx) => tx.get('node', dead.id))?.Status.State === 'down',
      10_000,
      'the dead worker marked down',
    );
    await until(
      () => c.running(id).filter((x) => x.NodeID !== dead.id).length === 3,
      10_000,
      'its tasks rescheduled',
    );
    t.false(c.running(id).some((x) => x.NodeID === dead.id));

    // Removing the service stops and deletes every task.
    t.is((await c.api.inject({ method: 'DELETE', url: `/services/${id}` })).statusCode, 200);
    await until(() => c.tasks(id).length === 0, 10_000, 'tasks deleted after service rm');
    t.is(
      c.nodes.slice(0, 2).reduce((n, x) => n + x.executor.running().length, 0),
      0,
    );
  } finally {
    await c.stop();
  }
});

test('rolling update: a good image rolls through and completes; a crashing one rolls back automatically', async (t) => {
  t.timeout(90_000);
  const c = await cluster(2, {
    exitAfter: (task) =>
      task.Spec.ContainerSpec?.Image === 'broken:1' ? { ms: 100, exitCode: 1 } : undefined,
  });
  try {
    const monitor = { Parallelism: 1, Monitor: 400e6, FailureAction: 'rollback', Order: 'stop-first' };
    const create = await c.api.inject({
      method: 'POST',
      url: '/services/create',
      payload: webService({ UpdateConfig: monitor, RollbackConfig: { ...monitor, FailureAction: 'pause' } }),
    });
    t.is(create.statusCode, 201, create.body);
    const id = create.json<{ ID: string }>().ID;
    await until(() => c.running(id).length === 3, 10_000, '3 running tasks');
    const service = () => c.store.view((tx) => tx.get('service', id))!;
    const update = async (image: string) => {
      const s = service();
      const spec = structuredClone(s.Spec);
      spec.TaskTemplate.ContainerSpec!.Image = image;
      const res = await c.api.inject({
        method: 'POST',
        url: `/services/${id}/update?version=${s.Version.Index}`,
        payload: spec,
      });
      t.is(res.statusCode, 200, res.body);
    };
    const images = () => c.running(id).map((x) => x.Spec.ContainerSpec?.Image);

    await update('busybox:v2');
    await until(() => service().UpdateStatus?.State === 'completed', 20_000, 'update completed');
    t.deepEqual(images(), ['busybox:v2', 'busybox:v2', 'busybox:v2']);

    await update('broken:1');
    await until(
      () => service().UpdateStatus?.State === 'rollback_completed',
      30_000,
      'automatic rollback',
    ).catch((err: unknown) => {
      t.log(JSON.stringify(service().UpdateStatus));
      throw err;
    });
    t.is(service().Spec.TaskTemplate.ContainerSpec?.Image, 'busybox:v2');
    await until(() => c.running(id).length === 3, 10_000, '3 running after the rollback');
    t.deepEqual(images(), ['busybox:v2', 'busybox:v2', 'busybox:v2']);
  } finally {
    await c.stop();
  }
});
