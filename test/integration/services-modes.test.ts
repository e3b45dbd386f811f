// Service modes, restart policies, node availability and images workers cannot get, on an in-process swarm
// with fake executors: the orchestrators, scheduler, dispatcher and agents are the product's.
import test from 'ava';
import type { Task } from '../../api/index.js';
import { serviceCluster, until } from '../support/service-cluster.js';

type Cluster = Awaited<ReturnType<typeof serviceCluster>>;

function sleeper(name: string, mode: object, restart: object = { Condition: 'any', Delay: 0 }): object {
  return {
    Name: name,
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox:local', Args: ['sleep', '300'] },
      RestartPolicy: restart,
    },
    Mode: mode,
  };
}

async function setAvailability(c: Cluster, nodeId: string, availability: 'active' | 'pause' | 'drain') {
  const node = c.store.view((tx) => tx.get('node', nodeId))!;
  const res = await c.api.inject({
    method: 'POST',
    url: `/nodes/${nodeId}/update?version=${node.Version.Index}`,
    payload: { ...node.Spec, Availability: availability },
  });
  if (res.statusCode !== 200) throw new Error(`node update: ${res.statusCode} ${res.body}`);
}

async function scale(c: Cluster, id: string, replicas: number) {
  const s = c.store.view((tx) => tx.get('service', id))!;
  const res = await c.api.inject({
    method: 'POST',
    url: `/services/${id}/update?version=${s.Version.Index}`,
    payload: { ...s.Spec, Mode: { Replicated: { Replicas: replicas } } },
  });
  if (res.statusCode !== 200) throw new Error(`service update: ${res.statusCode} ${res.body}`);
}

const nodesOf = (tasks: Task[]) => tasks.map((x) => x.NodeID).sort();

test('global service: one task per node, follows a node joining and a node drained', async (t) => {
  t.timeout(60_000);
  const c = await serviceCluster(1);
  try {
    await c.ready();
    const id = await c.createService(sleeper('agent', { Global: {} }));
    await until(() => c.running(id).length === 2, 10_000, 'a task on each of the 2 nodes');
    t.deepEqual(nodesOf(c.running(id)), [c.nodes[0]!.id, c.nodes[1]!.id].sort());

    const joined = await c.addWorker();
    await c.ready();
    await until(() => c.running(id).some((x) => x.NodeID === joined.id), 10_000, 'a task on the new node');
    t.is(c.running(id).length, 3);

    await setAvailability(c, joined.id, 'drain');
    await until(
      () => c.running(id).length === 2 && joined.executor.running().length === 0,
      10_000,
      'the drained node emptied',
    );
    t.false(c.running(id).some((x) => x.NodeID === joined.id));
    t.is(new Set(nodesOf(c.running(id))).size, 2, 'still one per remaining node');

    await setAvailability(c, joined.id, 'active');
    await until(() => c.running(id).length === 3, 10_000, 'back on the reactivated node');
  } finally {
    await c.stop();
  }
});

test('replicated job: --replicas 5 --max-concurrent 2 completes 5 tasks, never more than 2 at once', async (t) => {
  t.timeout(60_000);
  const c = await serviceCluster(2, { exitAfter: () => ({ ms: 150 }) });
  try {
    await c.ready();
    let peak = 0;
    const sample = setInterval(() => {
      peak = Math.max(
        peak,
        c.nodes.reduce((n, x) => n + x.executor.running().length, 0),
      );
    }, 10);
    const id = await c.createService(
      sleeper('batch', { ReplicatedJob: { TotalCompletions: 5, MaxConcurrent: 2 } }, { Condition: 'none' }),
    );
    try {
      await until(
        () => c.tasks(id).filter((x) => x.Status.State === 'complete').length === 5,
        15_000,
        '5 completions',
      );
    } finally {
      clearInterval(sample);
    }
    await new Promise((r) => setTimeout(r, 500)); // nothing more is started once the job is done
    const tasks = c.tasks(id);
    t.is(tasks.length, 5);
    t.true(
      tasks.every((x) => x.Status.State === 'complete'),
      JSON.stringify(tasks.map((x) => x.Status.State)),
    );
    t.true(peak >= 1 && peak <= 2, `peak concurrency ${peak}`);
  } finally {
    await c.stop();
  }
});

test('restart policies: none leaves a failed task down; on-failure stops after MaxAttempts; a clean exit is not restarted under on-failure', async (t) => {
  t.timeout(60_000);
  const c = await serviceCluster(1);
  try {
    await c.ready();
    const failFirst = async (id: string, exitCode: number) => {
      const victim = await until(() => c.running(id)[0], 10_000, 'a running task');
      const owner = c.nodes.find((n) => n.id === victim.NodeID)!;
      t.true(owner.executor.fail(victim.ID, exitCode));
      return victim;
    };

    const none = await c.createService(
      sleeper('once', { Replicated: { Replicas: 1 } }, { Condition: 'none' }),
    );
    const v = await failFirst(none, 1);
    await until(
      () => c.tasks(none).find((x) => x.ID === v.ID)?.Status.State === 'failed',
      5000,
      'failure reported',
    );
    await new Promise((r) => setTimeout(r, 800));
    t.is(c.running(none).length, 0, 'condition none: not restarted');
    t.is(c.tasks(none).length, 1);

    const limited = await c.createService(
      sleeper(
        'flaky',
        { Replicated: { Replicas: 1 } },
        { Condition: 'on-failure', Delay: 0, MaxAttempts: 2 },
      ),
    );
    for (let i = 0; i < 3; i++) {
      const victim = await failFirst(limited, 2);
      await until(
        () => c.tasks(limited).find((x) => x.ID === victim.ID)?.Status.State === 'failed',
        5000,
        `failure ${i + 1} reported`,
      );
    }
    await new Promise((r) => setTimeout(r, 800));
    t.is(c.running(limited).length, 0, 'on-failure, 2 attempts: the third failure is final');
    t.is(c.tasks(limited).length, 3, 'the first task and 2 restarts');

    const clean = await c.createService(
      sleeper('clean', { Replicated: { Replicas: 1 } }, { Condition: 'on-failure', Delay: 0 }),
    );
    const done = await failFirst(clean, 0);
    await until(
      () => c.tasks(clean).find((x) => x.ID === done.ID)?.Status.State === 'complete',
      5000,
      'completion reported',
    );
    await new Promise((r) => setTimeout(r, 800));
    t.is(c.running(clean).length, 0, 'on-failure: exit 0 is not restarted');
  } finally {
    await c.stop();
  }
});

test('a paused node gets no new tasks but keeps its own; a drained one gives its tasks away', async (t) => {
  t.timeout(60_000);
  const c = await serviceCluster(2);
  try {
    await c.ready();
    const id = await c.createService(sleeper('web', { Replicated: { Replicas: 3 } }));
    await until(() => c.running(id).length === 3, 10_000, '3 running');
    const paused = c.nodes[1]!;
    const kept = c
      .running(id)
      .filter((x) => x.NodeID === paused.id)
      .map((x) => x.ID);
    t.is(kept.length, 1);
    await setAvailability(c, paused.id, 'pause');
    await scale(c, id, 9);
    await until(() => c.running(id).length === 9, 10_000, '9 running');
    t.deepEqual(
      c
        .running(id)
        .filter((x) => x.NodeID === paused.id)
        .map((x) => x.ID),
      kept,
      'the paused node kept its task and got no new one',
    );

    const drained = c.nodes[2]!;
    await setAvailability(c, drained.id, 'drain');
    await until(
      () => c.running(id).length === 9 && !c.running(id).some((x) => x.NodeID === drained.id),
      10_000,
      'tasks moved off the drained node',
    );
    t.is(drained.executor.running().length, 0);
    t.is(c.running(id).filter((x) => x.NodeID === paused.id).length, 1, 'none moved to the paused node');
  } finally {
    await c.stop();
  }
});

test('an image the workers cannot get: tasks REJECTED "No such image", the service stays and keeps trying', async (t) => {
  t.timeout(60_000);
  const c = await serviceCluster(1);
  try {
    await c.ready();
    for (const n of c.nodes) n.executor.rejectImages('nosuch:1');
    const spec = sleeper('ghost', { Replicated: { Replicas: 2 } });
    (spec as { TaskTemplate: { ContainerSpec: { Image: string } } }).TaskTemplate.ContainerSpec.Image =
      'nosuch:1';
    const id = await c.createService(spec);
    const rejected = await until(
      () => {
        const r = c.tasks(id).filter((x) => x.Status.State === 'rejected');
        return r.length >= 3 && r;
      },
      10_000,
      'rejected tasks, replaced',
    );
    t.is(rejected[0]!.Status.Err, 'No such image: nosuch:1');
    t.is(c.running(id).length, 0);
    const inspect = await c.api.inject({ url: `/services/${id}` });
    t.is(inspect.statusCode, 200, 'the service stays');
    const listed = await c.api.inject({
      url: `/tasks?filters=${encodeURIComponent(JSON.stringify({ service: { ghost: true } }))}`,
    });
    t.true(
      listed.json<Task[]>().some((x) => x.Status.Err === 'No such image: nosuch:1'),
      'the API shows the error',
    );
  } finally {
    await c.stop();
  }
});
