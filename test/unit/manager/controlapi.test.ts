import test from 'ava';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../../node/http/server.js';
import { controlRoutes } from '../../../manager/controlapi/index.js';
import { createLogger, type Service, type Task } from '../../../api/index.js';
import { storeCluster } from '../../support/log-proposer.js';
import type { MemoryStore } from '../../../manager/store/index.js';

function setup(): { app: FastifyInstance; store: MemoryStore } {
  const { store } = storeCluster();
  const app = createHttpServer(
    createLogger({}, () => undefined),
    [controlRoutes(() => store)],
  );
  return { app, store };
}

const spec = (name: string, extra: object = {}) => ({
  Name: name,
  TaskTemplate: { ContainerSpec: { Image: 'busybox:local', Args: ['httpd', '-f'] } },
  Mode: { Replicated: { Replicas: 3 } },
  ...extra,
});

async function create(app: FastifyInstance, body: object) {
  return app.inject({ method: 'POST', url: '/v1.50/services/create', payload: body });
}

test('services: create, inspect by name, id and prefix, list with filters', async (t) => {
  const { app } = setup();
  const res = await create(app, spec('web'));
  t.is(res.statusCode, 201);
  const { ID } = res.json<{ ID: string }>();
  t.regex(ID, /^[0-9a-z]{25}$/);
  await create(app, spec('api', { Labels: { tier: 'back' } }));
  for (const ref of [ID, 'web', ID.slice(0, 6)]) {
    const s = (await app.inject({ url: `/services/${ref}` })).json<Service>();
    t.is(s.ID, ID, ref);
    t.is(s.Spec.Mode!.Replicated!.Replicas, 3);
    t.is(s.Spec.TaskTemplate.RestartPolicy!.Condition, 'any');
    t.is(s.Version.Index, 1);
  }
  const all = (await app.inject({ url: '/services' })).json<Service[]>();
  t.deepEqual(
    all.map((s) => s.Spec.Name),
    ['api', 'web'],
  );
  const byLabel = (
    await app.inject({ url: `/services?filters=${encodeURIComponent('{"label":{"tier=back":true}}')}` })
  ).json<Service[]>();
  t.deepEqual(
    byLabel.map((s) => s.Spec.Name),
    ['api'],
  );
  const withStatus = (await app.inject({ url: '/services?status=true' })).json<Service[]>();
  t.deepEqual(withStatus[1]!.ServiceStatus, { RunningTasks: 0, DesiredTasks: 3, CompletedTasks: 0 });
});

test('services: bad input gets precise 4xx messages', async (t) => {
  const { app } = setup();
  const bad = await create(app, spec('web', { Mode: { Replicated: { Replicas: -2 } } }));
  t.is(bad.statusCode, 400);
  t.is(bad.json().message, 'Mode.Replicated.Replicas: must be a non-negative integer (got -2)');
  const noBody = await app.inject({
    method: 'POST',
    url: '/services/create',
    headers: { 'content-type': 'application/json' },
    payload: '',
  });
  t.is(noBody.statusCode, 400);
  t.is(noBody.json().message, 'service spec: request body must be a JSON object');
  await create(app, spec('web'));
  const dup = await create(app, spec('web'));
  t.is(dup.statusCode, 409);
  t.is(dup.json().message, 'service web already exists');
  const missing = await app.inject({ url: '/services/nope' });
  t.is(missing.statusCode, 404);
  t.is(missing.json().message, 'service nope not found');
  const badSecret = await create(
    app,
    spec('x', {
      TaskTemplate: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: 'zzz', SecretName: 'pw' }] } },
    }),
  );
  t.is(badSecret.statusCode, 400);
  t.is(badSecret.json().message, 'secret not found: pw');
  const badConstraint = await create(
    app,
    spec('z', {
      TaskTemplate: {
        ContainerSpec: { Image: 'busybox' },
        Placement: { Constraints: ['node.role=manager'] },
      },
    }),
  );
  t.is(badConstraint.statusCode, 400);
  t.is(
    badConstraint.json().message,
    'invalid constraint "node.role=manager": constraint expected one operator from ==, !=',
  );
  const badNet = await create(
    app,
    spec('y', { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'appnet' }] } }),
  );
  t.is(badNet.statusCode, 404);
  t.is(badNet.json().message, 'network appnet not found');
});

test('services: update needs the current version; stale is 409; rollback swaps specs', async (t) => {
  const { app } = setup();
  const { ID } = (await create(app, spec('web'))).json<{ ID: string }>();
  const v1 = (await app.inject({ url: `/services/${ID}` })).json<Service>();
  const newSpec = {
    ...v1.Spec,
    TaskTemplate: { ...v1.Spec.TaskTemplate, ContainerSpec: { Image: 'busybox:v2' } },
  };
  const ok = await app.inject({
    method: 'POST',
    url: `/services/${ID}/update?version=${v1.Version.Index}`,
    payload: newSpec,
  });
  t.is(ok.statusCode, 200);
  t.deepEqual(ok.json(), { Warnings: null });
  const stale = await app.inject({
    method: 'POST',
    url: `/services/${ID}/update?version=${v1.Version.Index}`,
    payload: newSpec,
  });
  t.is(stale.statusCode, 409);
  t.is(stale.json().message, 'update out of sequence');
  const noVersion = await app.inject({ method: 'POST', url: `/services/${ID}/update`, payload: newSpec });
  t.is(noVersion.statusCode, 400);
  const v2 = (await app.inject({ url: `/services/${ID}` })).json<Service>();
  t.is(v2.Spec.TaskTemplate.ContainerSpec!.Image, 'busybox:v2');
  t.is(v2.PreviousSpec!.TaskTemplate.ContainerSpec!.Image, 'busybox:local');
  const rb = await app.inject({
    method: 'POST',
    url: `/services/${ID}/update?version=${v2.Version.Index}&rollback=previous`,
    payload: v2.Spec,
  });
  t.is(rb.statusCode, 200);
  const v3 = (await app.inject({ url: `/services/${ID}` })).json<Service>();
  t.is(v3.Spec.TaskTemplate.ContainerSpec!.Image, 'busybox:local');
  t.is(v3.UpdateStatus!.State, 'rollback_started');
  const rename = await app.inject({
    method: 'POST',
    url: `/services/${ID}/update?version=${v3.Version.Index}`,
    payload: { ...v3.Spec, Name: 'other' },
  });
  t.is(rename.statusCode, 400);
  t.is(rename.json().message, 'renaming services is not supported');
  const del = await app.inject({ method: 'DELETE', url: `/services/web` });
  t.is(del.statusCode, 200);
  t.is((await app.inject({ url: `/services/${ID}` })).statusCode, 404);
});

test('tasks: list filters by service name, desired state and up-to-date spec', async (t) => {
  const { app, store } = setup();
  const { ID } = (await create(app, spec('web'))).json<{ ID: string }>();
  const svc = store.view((tx) => tx.get('service', ID))!;
  const mk = (id: string, slot: number, desired: Task['DesiredState'], image = 'busybox:local'): Task => ({
    ID: id,
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: {
      ...svc.Spec.TaskTemplate,
      ContainerSpec: { ...svc.Spec.TaskTemplate.ContainerSpec!, Image: image },
    },
    ServiceID: ID,
    Slot: slot,
    NodeID: 'node1',
    Status: { Timestamp: '', State: 'running', Message: 'started' },
    DesiredState: desired,
  });
  await store.update((tx) => {
    tx.create('task', mk('t1', 1, 'running'));
    tx.create('task', mk('t2', 2, 'shutdown', 'busybox:old'));
  });
  const q = (f: object) =>
    app
      .inject({ url: `/tasks?filters=${encodeURIComponent(JSON.stringify(f))}` })
      .then((r) => r.json<Task[]>().map((x) => x.ID));
  t.deepEqual(await q({ service: { web: true } }), ['t1', 't2']);
  t.deepEqual(await q({ service: { web: true }, 'desired-state': { running: true } }), ['t1']);
  t.deepEqual(await q({ service: { [ID]: true }, '_up-to-date': { true: true } }), ['t1']);
  t.deepEqual(await q({ name: { 'web.2': true } }), ['t2']);
  const badFilter = await app.inject({ url: `/tasks?filters=${encodeURIComponent('{"colour":["red"]}')}` });
  t.is(badFilter.statusCode, 400);
  t.is(badFilter.json().message, "invalid filter 'colour'");
  t.is((await app.inject({ url: '/tasks/t1' })).json<Task>().Slot, 1);
  t.is((await app.inject({ url: '/tasks/zzz' })).json().message, 'task zzz not found');
});

test('secrets: data never returned, size limits, labels-only updates, in-use deletion refused', async (t) => {
  const { app } = setup();
  const data = Buffer.from('s3cret').toString('base64');
  const res = await app.inject({
    method: 'POST',
    url: '/secrets/create',
    payload: { Name: 'pw', Data: data },
  });
  t.is(res.statusCode, 201);
  const { ID } = res.json<{ ID: string }>();
  const got = (await app.inject({ url: '/secrets/pw' })).json();
  t.is(got.Spec.Name, 'pw');
  t.false('Data' in got.Spec);
  t.false(JSON.stringify((await app.inject({ url: '/secrets' })).json()).includes(data));
  const big = await app.inject({
    method: 'POST',
    url: '/secrets/create',
    payload: { Name: 'big', Data: Buffer.alloc(500 * 1024 + 1).toString('base64') },
  });
  t.is(big.statusCode, 400);
  t.is(big.json().message, 'secret data must be larger than 0 and less than 500KB');
  const badName = await app.inject({
    method: 'POST',
    url: '/secrets/create',
    payload: { Name: '-x', Data: data },
  });
  t.is(badName.statusCode, 400);
  t.regex(badName.json().message, /^invalid secret name "-x"/);
  const dup = await app.inject({
    method: 'POST',
    url: '/secrets/create',
    payload: { Name: 'pw', Data: data },
  });
  t.is(dup.statusCode, 409);
  t.is(dup.json().message, 'secret pw already exists');
  await create(
    app,
    spec('web', {
      TaskTemplate: { ContainerSpec: { Image: 'busybox', Secrets: [{ SecretID: ID, SecretName: 'pw' }] } },
    }),
  );
  const del = await app.inject({ method: 'DELETE', url: '/secrets/pw' });
  t.is(del.statusCode, 400);
  t.is(del.json().message, "secret 'pw' is in use by the following service: web");
  const cfg = await app.inject({
    method: 'POST',
    url: '/configs/create',
    payload: { Name: 'conf', Data: data },
  });
  t.is(cfg.statusCode, 201);
  const c = (await app.inject({ url: '/configs/conf' })).json();
  t.is(c.Spec.Data, data);
  const upd = await app.inject({
    method: 'POST',
    url: `/configs/conf/update?version=${c.Version.Index}`,
    payload: { ...c.Spec, Data: Buffer.from('x').toString('base64') },
  });
  t.is(upd.statusCode, 400);
  t.is(upd.json().message, 'only updates to Labels are allowed');
  const lbl = await app.inject({
    method: 'POST',
    url: `/configs/conf/update?version=${c.Version.Index}`,
    payload: { ...c.Spec, Labels: { a: 'b' } },
  });
  t.is(lbl.statusCode, 200);
  t.is((await app.inject({ method: 'DELETE', url: '/configs/conf' })).statusCode, 204);
});

test('nodes: demotion refused when it would lose quorum; a down manager goes only with --force', async (t) => {
  const { app, store } = setup();
  const mk = (id: string, reach: 'reachable' | 'unreachable', state: 'ready' | 'down') => ({
    ID: id,
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Role: 'manager' as const, Availability: 'active' as const, Labels: {} },
    Description: { Hostname: id },
    Status: { State: state, Addr: '198.18.0.1' },
    ManagerStatus: { Addr: `${id}:2377`, Reachability: reach, Leader: id === 'm1' },
  });
  await store.update((tx) => {
    tx.create('node', mk('m1', 'reachable', 'ready') as never);
    tx.create('node', mk('m2', 'reachable', 'ready') as never);
    tx.create('node', mk('m3', 'unreachable', 'down') as never);
  });
  const version = (id: string) => store.view((tx) => tx.get('node', id)!.Version.Index);
  const demote = await app.inject({
    method: 'POST',
    url: `/nodes/m2/update?version=${version('m2')}`,
    payload: { Role: 'worker', Availability: 'active' },
  });
  t.is(demote.statusCode, 400);
  t.regex(demote.json<{ message: string }>().message, /would result in a loss of quorum/);
  const rm = await app.inject({ method: 'DELETE', url: '/nodes/m3' });
  t.is(rm.statusCode, 400);
  t.regex(rm.json<{ message: string }>().message, /must be demoted to worker before removal/);
  const alive = await app.inject({ method: 'DELETE', url: '/nodes/m2?force=1' });
  t.is(alive.statusCode, 400, 'a live manager is never removed, even with --force');
  t.is((await app.inject({ method: 'DELETE', url: '/nodes/m3?force=1' })).statusCode, 200);
  t.is(
    store.view((tx) => tx.get('node', 'm3')),
    undefined,
  );
});

test('services: the docker CLI’s `Healthcheck` spelling is taken as HealthCheck', async (t) => {
  const { app } = setup();
  const health = { Test: ['CMD-SHELL', 'true'], Interval: 1e9, Retries: 1 };
  const body = spec('hc');
  const res = await create(app, {
    ...body,
    TaskTemplate: { ContainerSpec: { ...body.TaskTemplate.ContainerSpec, Healthcheck: health } },
  });
  t.is(res.statusCode, 201, res.body);
  const s = (await app.inject({ url: '/services/hc' })).json<Service>();
  t.deepEqual(s.Spec.TaskTemplate.ContainerSpec!.HealthCheck, health);
  t.false('Healthcheck' in s.Spec.TaskTemplate.ContainerSpec!);
});
