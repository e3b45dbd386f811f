import test from 'ava';
import type { FastifyInstance } from 'fastify';
import { createHttpServer } from '../../../node/http/server.js';
import { controlRoutes } from '../../../manager/controlapi/index.js';
import { newClusterObject } from '../../../manager/cluster-objects.js';
import { OVERLAP_MESSAGE, portInUseMessage } from '../../../manager/allocator/index.js';
import { MemoryStore, type Proposer } from '../../../manager/store/index.js';
import { createLogger, type Network, type Service, type Task } from '../../../api/index.js';
import { storeCluster } from '../../support/log-proposer.js';

const POOL = '198.19.0.0/16';
const VXLAN = 'com.docker.network.driver.overlay.vxlanid_list';

interface Resource {
  Name: string;
  Id: string;
  Created: string;
  Scope: string;
  Driver: string;
  EnableIPv6: boolean;
  IPAM: { Driver: string; Options: unknown; Config: { Subnet: string; Gateway: string; IPRange?: string }[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  Containers: object;
  Options: Record<string, string>;
  Labels: Record<string, string>;
  Services?: Record<string, { VIP: string; Tasks: { EndpointIP: string }[] }>;
}

async function withCluster(store: MemoryStore): Promise<void> {
  await store.update((tx) =>
    tx.create(
      'cluster',
      newClusterObject({
        clusterId: 'cluster1',
        rootCaPem: '',
        tokens: { Worker: 'w', Manager: 'm' },
        defaultAddrPool: [POOL],
        subnetSize: 24,
        dataPathPort: 4789,
      }),
    ),
  );
}

async function setup(): Promise<{ app: FastifyInstance; store: MemoryStore }> {
  const { store } = storeCluster();
  await withCluster(store);
  const app = createHttpServer(
    createLogger({}, () => undefined),
    [controlRoutes(() => store)],
  );
  return { app, store };
}

/** What `docker network create -d overlay [--subnet …] NAME` sends (the CLI fills empty strings). */
function body(
  name: string,
  o: { subnet?: string; gateway?: string; ipRange?: string; [k: string]: unknown } = {},
) {
  const { subnet, gateway, ipRange, ...rest } = o;
  return {
    Name: name,
    Driver: 'overlay',
    Scope: '',
    EnableIPv6: null,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: subnet ? [{ Subnet: subnet, IPRange: ipRange ?? '', Gateway: gateway ?? '' }] : [],
    },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigOnly: false,
    ConfigFrom: null,
    Options: {},
    Labels: {},
    ...rest,
  };
}

const createNet = (app: FastifyInstance, payload: object) =>
  app.inject({ method: 'POST', url: '/v1.50/networks/create', payload });

const svc = (name: string, extra: object = {}) => ({
  Name: name,
  TaskTemplate: { ContainerSpec: { Image: 'busybox:local' } },
  Mode: { Replicated: { Replicas: 1 } },
  ...extra,
});

const createSvc = (app: FastifyInstance, payload: object) =>
  app.inject({ method: 'POST', url: '/v1.50/services/create', payload });

const publishing = (name: string, ports: object[], mode = 'vip') =>
  svc(name, { EndpointSpec: { Mode: mode, Ports: ports } });

test('networks: create allocates subnet, gateway and VNI; ls and inspect show Docker shapes', async (t) => {
  const { app } = await setup();
  const res = await createNet(app, body('appnet', { subnet: '198.19.50.0/24', Labels: { team: 'a' } }));
  t.is(res.statusCode, 201);
  const { Id, Warning } = res.json<{ Id: string; Warning: string }>();
  t.regex(Id, /^[0-9a-z]{25}$/);
  t.is(Warning, '');
  const auto = await createNet(app, body('backend', { Attachable: true, Options: { mtu: '1400' } }));
  t.is(auto.statusCode, 201);
  for (const ref of [Id, 'appnet', Id.slice(0, 7)]) {
    const n = (await app.inject({ url: `/v1.50/networks/${ref}` })).json<Resource>();
    t.is(n.Id, Id, ref);
    t.like(n, {
      Name: 'appnet',
      Scope: 'swarm',
      Driver: 'overlay',
      EnableIPv6: false,
      Internal: false,
      Attachable: false,
      Ingress: false,
      ConfigOnly: false,
      ConfigFrom: { Network: '' },
      Labels: { team: 'a' },
    });
    t.deepEqual(n.IPAM, {
      Driver: 'default',
      Options: null,
      Config: [{ Subnet: '198.19.50.0/24', Gateway: '198.19.50.1' }],
    });
    t.deepEqual(n.Options, { [VXLAN]: '4096' });
    t.deepEqual(n.Containers, {});
    t.truthy(Date.parse(n.Created));
  }
  const list = (await app.inject({ url: '/networks' })).json<Resource[]>();
  t.deepEqual(
    list.map((n) => [n.Name, n.IPAM.Config[0]!.Subnet, n.Options[VXLAN], n.Attachable]),
    [
      ['appnet', '198.19.50.0/24', '4096', false],
      ['backend', '198.19.0.0/24', '4097', true],
    ],
  );
  t.is(list[1]!.Options.mtu, '1400');
  const q = async (filters: object) =>
    (await app.inject({ url: `/networks?filters=${encodeURIComponent(JSON.stringify(filters))}` }))
      .json<Resource[]>()
      .map((n) => n.Name);
  t.deepEqual(await q({ name: { end: true } }), ['backend']);
  t.deepEqual(await q({ id: { [Id.slice(0, 5)]: true } }), ['appnet']);
  t.deepEqual(await q({ label: { 'team=a': true } }), ['appnet']);
  t.deepEqual(await q({ driver: { overlay: true }, scope: { swarm: true } }), ['appnet', 'backend']);
  t.deepEqual(await q({ type: { builtin: true } }), []);
  t.deepEqual(await q({ type: { custom: true } }), ['appnet', 'backend']);
  t.deepEqual(await q({ dangling: { true: true } }), ['appnet', 'backend']);
  const badType = await app.inject({
    url: `/networks?filters=${encodeURIComponent('{"type":{"odd":true}}')}`,
  });
  t.is(badType.statusCode, 400);
  t.is(badType.json().message, "invalid filter 'type=odd'");
  const local = await app.inject({ url: `/networks/appnet?scope=local` });
  t.is(local.statusCode, 404);
});

test('networks: gateway and ip-range are honoured; bad requests get precise 4xx messages', async (t) => {
  const { app } = await setup();
  const ok = await createNet(
    app,
    body('ranged', { subnet: '198.19.60.0/24', gateway: '198.19.60.254', ipRange: '198.19.60.128/25' }),
  );
  t.is(ok.statusCode, 201);
  const n = (await app.inject({ url: '/networks/ranged' })).json<Resource>();
  t.deepEqual(n.IPAM.Config, [
    { Subnet: '198.19.60.0/24', IPRange: '198.19.60.128/25', Gateway: '198.19.60.254' },
  ]);

  const cases: [object, number, string | RegExp][] = [
    [body('overlap', { subnet: '198.19.60.128/25' }), 400, OVERLAP_MESSAGE],
    [body('covering', { subnet: '198.19.0.0/16' }), 400, OVERLAP_MESSAGE],
    [body('ranged'), 409, 'network with name ranged already exists'],
    [body('bad name'), 400, /^invalid network name "bad name"/],
    [body('-dash'), 400, /^invalid network name "-dash"/],
    [body(''), 400, 'network name must be provided'],
    [body('x'.repeat(64)), 400, /at most 63 characters/],
    [body('bridge'), 403, 'bridge is a pre-defined network and cannot be created'],
    [{ ...body('br'), Driver: 'bridge' }, 400, /^network driver "bridge" is not supported/],
    [
      body('hostbits', { subnet: '198.19.70.1/24' }),
      400,
      'invalid subnet 198.19.70.1/24: it should be 198.19.70.0/24',
    ],
    [
      body('gw', { subnet: '198.19.71.0/24', gateway: '198.19.72.1' }),
      400,
      'no matching subnet for gateway 198.19.72.1',
    ],
    [
      body('rng', { subnet: '198.19.73.0/24', ipRange: '198.19.74.0/25' }),
      400,
      'no matching subnet for range 198.19.74.0/25',
    ],
    [body('enc', { Options: { encrypted: '' } }), 400, 'encrypted overlay networks are not supported'],
    [body('v6', { EnableIPv6: true }), 400, 'IPv6 is not supported on overlay networks'],
    [body('both', { Ingress: true, Attachable: true }), 400, 'ingress network cannot be attachable'],
    [
      {
        ...body('two'),
        IPAM: { Config: [{ Subnet: '198.19.80.0/24' }, { Subnet: '198.19.81.0/24' }] },
      },
      400,
      'only one IPAM config (one --subnet) is supported per overlay network',
    ],
  ];
  for (const [payload, status, message] of cases) {
    const res = await createNet(app, payload);
    const name = (payload as { Name: string }).Name;
    t.is(res.statusCode, status, name);
    if (typeof message === 'string') t.is(res.json().message, message, name);
    else t.regex(res.json<{ message: string }>().message, message, name);
  }
  const names = (await app.inject({ url: '/networks' })).json<Resource[]>().map((x) => x.Name);
  t.deepEqual(names, ['ranged'], 'no failed request left a network behind');
  const missing = await app.inject({ url: '/networks/nope' });
  t.is(missing.statusCode, 404);
  t.is(missing.json().message, 'network nope not found');
  const connect = await app.inject({ method: 'POST', url: '/networks/ranged/connect', payload: {} });
  t.is(connect.statusCode, 501);
  t.regex(
    connect.json<{ message: string }>().message,
    /^cannot connect a container to network ranged by hand/,
  );
});

test('networks: only one ingress network; a second one names the first', async (t) => {
  const { app } = await setup();
  const first = await createNet(app, body('ingress', { Ingress: true }));
  t.is(first.statusCode, 201);
  const { Id } = first.json<{ Id: string }>();
  const second = await createNet(app, body('mesh2', { Ingress: true }));
  t.is(second.statusCode, 409);
  t.is(second.json().message, `ingress network (${Id}) is already present`);
  const n = (await app.inject({ url: '/networks/ingress' })).json<Resource>();
  t.true(n.Ingress);
});

test('networks: removal is refused while a service, the routing mesh or a live task uses the network', async (t) => {
  const { app, store } = await setup();
  const { Id: netId } = (await createNet(app, body('appnet', { subnet: '198.19.50.0/24' }))).json<{
    Id: string;
  }>();
  const { Id: ingressId } = (await createNet(app, body('ingress', { Ingress: true }))).json<{ Id: string }>();
  const web = await createSvc(
    app,
    svc('web', { TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'appnet' }] } }),
  );
  t.is(web.statusCode, 201);
  const { ID: webId } = web.json<{ ID: string }>();
  t.is(store.view((tx) => tx.get('service', webId))!.Spec.TaskTemplate.Networks![0]!.Target, netId);

  const refused = await app.inject({ method: 'DELETE', url: '/networks/appnet' });
  t.is(refused.statusCode, 409);
  t.is(refused.json().message, 'network appnet is in use by service web');

  // The service goes; one of its tasks is still running with an address on the network.
  const network = store.view((tx) => tx.get('network', netId))!;
  const task: Task = {
    ID: 'task1',
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: netId }] },
    ServiceID: webId,
    Slot: 1,
    NodeID: 'node1',
    Status: { Timestamp: '', State: 'running', Message: 'started' },
    DesiredState: 'shutdown',
    NetworksAttachments: [{ Network: network, Addresses: ['198.19.50.2/24'] }],
  };
  await store.update((tx) => tx.create('task', task));
  t.is((await app.inject({ method: 'DELETE', url: `/services/${webId}` })).statusCode, 200);
  const byTask = await app.inject({ method: 'DELETE', url: `/networks/${netId}` });
  t.is(byTask.statusCode, 409);
  t.is(byTask.json().message, 'network appnet is in use by task task1');
  const verbose = (await app.inject({ url: `/networks/appnet?verbose=true` })).json<Resource>();
  t.deepEqual(verbose.Services, {});
  await store.update((tx) => {
    const cur = tx.get('task', 'task1')!;
    cur.Status = { Timestamp: '', State: 'shutdown', Message: 'shutdown' };
    tx.update('task', cur);
  });
  const gone = await app.inject({ method: 'DELETE', url: `/networks/${netId.slice(0, 8)}` });
  t.is(gone.statusCode, 204);
  t.is((await app.inject({ url: `/networks/${netId}` })).statusCode, 404);

  // The routing mesh's network stays while a service publishes through it.
  const api = await createSvc(app, publishing('api', [{ TargetPort: 80, PublishedPort: 8080 }]));
  t.is(api.statusCode, 201);
  const mesh = await app.inject({ method: 'DELETE', url: `/networks/${ingressId}` });
  t.is(mesh.statusCode, 409);
  t.is(mesh.json().message, 'ingress network cannot be removed because service api depends on it');
  await app.inject({ method: 'DELETE', url: '/services/api' });
  t.is((await app.inject({ method: 'DELETE', url: '/networks/ingress' })).statusCode, 204);
  // …and can be made again once gone.
  t.is((await createNet(app, body('ingress', { Ingress: true }))).statusCode, 201);
});

test('networks: prune removes unused networks only, never ingress, honouring label filters', async (t) => {
  const { app } = await setup();
  for (const [name, extra] of [
    ['ingress', { Ingress: true }],
    ['appnet', {}],
    ['spare1', { Labels: { keep: 'no' } }],
    ['spare2', {}],
  ] as const)
    t.is((await createNet(app, body(name, extra))).statusCode, 201, name);
  t.is(
    (
      await createSvc(
        app,
        svc('web', {
          TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: [{ Target: 'appnet' }] },
        }),
      )
    ).statusCode,
    201,
  );
  const prune = (filters?: object) =>
    app.inject({
      method: 'POST',
      url: `/networks/prune${filters ? `?filters=${encodeURIComponent(JSON.stringify(filters))}` : ''}`,
    });
  const labelled = await prune({ label: { 'keep=no': true } });
  t.is(labelled.statusCode, 200);
  t.deepEqual(labelled.json(), { NetworksDeleted: ['spare1'] });
  t.deepEqual((await prune({ until: { '24h': true } })).json(), { NetworksDeleted: [] }, 'all are newer');
  t.deepEqual((await prune()).json(), { NetworksDeleted: ['spare2'] });
  t.deepEqual((await prune()).json(), { NetworksDeleted: [] });
  const left = (await app.inject({ url: '/networks' })).json<Resource[]>().map((n) => n.Name);
  t.deepEqual(left, ['appnet', 'ingress']);
});

test('services: a published port held by another service is refused with the owner named', async (t) => {
  const { app, store } = await setup();
  const web = await createSvc(app, publishing('web', [{ TargetPort: 80, PublishedPort: 8080 }]));
  t.is(web.statusCode, 201);
  const { ID: webId } = web.json<{ ID: string }>();
  const clash = await createSvc(app, publishing('api', [{ TargetPort: 81, PublishedPort: 8080 }]));
  t.is(clash.statusCode, 400);
  t.is(clash.json().message, portInUseMessage(8080, { id: webId, name: 'web' }));
  t.is(clash.json().message, `port '8080' is already in use by service 'web' (${webId}) as an ingress port`);
  // Another protocol is another port; host mode clashes with a mesh port of the same number.
  t.is(
    (await createSvc(app, publishing('dns', [{ TargetPort: 53, PublishedPort: 8080, Protocol: 'udp' }])))
      .statusCode,
    201,
  );
  const host = await createSvc(
    app,
    publishing('hosty', [{ TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }]),
  );
  t.is(host.statusCode, 400);
  t.is(host.json().message, portInUseMessage(8080, { id: webId, name: 'web' }));
  const h1 = await createSvc(
    app,
    publishing('h1', [{ TargetPort: 80, PublishedPort: 9000, PublishMode: 'host' }]),
  );
  t.is(h1.statusCode, 201);
  const { ID: h1Id } = h1.json<{ ID: string }>();
  t.is(
    (await createSvc(app, publishing('h2', [{ TargetPort: 80, PublishedPort: 9000, PublishMode: 'host' }])))
      .statusCode,
    201,
    'host-mode ports may be shared: the scheduler spreads them',
  );
  const meshOnHost = await createSvc(app, publishing('m', [{ TargetPort: 80, PublishedPort: 9000 }]));
  t.is(meshOnHost.statusCode, 400);
  t.regex(meshOnHost.json<{ message: string }>().message, /as a host-published port$/);
  t.true(meshOnHost.json<{ message: string }>().message.includes(`'9000' is already in use by service 'h`));
  t.truthy(h1Id);

  // A port the allocator gave (recorded only in Endpoint.Ports) is held too.
  await store.update((tx) => {
    const s = tx.get('service', webId)!;
    s.Endpoint = {
      Spec: s.Spec.EndpointSpec!,
      Ports: [
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
        { Protocol: 'tcp', TargetPort: 443, PublishedPort: 30000, PublishMode: 'ingress' },
      ],
    };
    tx.update('service', s);
  });
  const auto = await createSvc(app, publishing('late', [{ TargetPort: 80, PublishedPort: 30000 }]));
  t.is(auto.statusCode, 400);
  t.is(auto.json().message, portInUseMessage(30000, { id: webId, name: 'web' }));

  // Updating the holder keeps its own port; taking it by update is refused.
  const current = (await app.inject({ url: `/services/${webId}` })).json<Service>();
  const keep = await app.inject({
    method: 'POST',
    url: `/services/${webId}/update?version=${current.Version.Index}`,
    payload: { ...current.Spec, Labels: { v: '2' } },
  });
  t.is(keep.statusCode, 200);
  const other = (await createSvc(app, publishing('other', [{ TargetPort: 80, PublishedPort: 7000 }]))).json<{
    ID: string;
  }>();
  const o = (await app.inject({ url: `/services/${other.ID}` })).json<Service>();
  const take = await app.inject({
    method: 'POST',
    url: `/services/${other.ID}/update?version=${o.Version.Index}`,
    payload: { ...o.Spec, EndpointSpec: { Mode: 'vip', Ports: [{ TargetPort: 80, PublishedPort: 8080 }] } },
  });
  t.is(take.statusCode, 400);
  t.is(take.json().message, portInUseMessage(8080, { id: webId, name: 'web' }));
});

test('services: endpoint spec validation at the API', async (t) => {
  const { app } = await setup();
  const cases: [object, string][] = [
    [
      publishing('a', [{ TargetPort: 80 }], 'dnsrr'),
      "EndpointSpec: port published with ingress mode can't be used with dnsrr mode",
    ],
    [publishing('b', [{ TargetPort: 0 }]), 'EndpointSpec.Ports: invalid target port 0'],
    [
      publishing('c', [{ TargetPort: 80, PublishedPort: 70000 }]),
      'EndpointSpec.Ports: invalid published port 70000',
    ],
    [publishing('d', [{ TargetPort: 80, Protocol: 'icmp' }]), 'EndpointSpec.Ports: invalid protocol "icmp"'],
    [
      publishing('e', [{ TargetPort: 80, PublishMode: 'mesh' }]),
      'EndpointSpec.Ports: invalid publish mode "mesh"',
    ],
    [
      publishing('f', [], 'round-robin'),
      'EndpointSpec.Mode: invalid endpoint mode "round-robin" (vip or dnsrr)',
    ],
  ];
  for (const [payload, message] of cases) {
    const res = await createSvc(app, payload);
    t.is(res.statusCode, 400, message);
    t.is(res.json().message, message);
  }
  const dnsrrHost = await createSvc(
    app,
    publishing('g', [{ TargetPort: 80, PublishedPort: 8080, PublishMode: 'host' }], 'dnsrr'),
  );
  t.is(dnsrrHost.statusCode, 201, 'dnsrr with host-mode ports is fine');
});

/** Holds the first `hold` proposals until all have arrived, as a leader whose log has several writes in flight. */
class HoldingProposer implements Proposer {
  readonly replicas: MemoryStore[] = [];
  /** Proposals to hold back until that many are waiting (0: commit at once). */
  hold = 0;
  private index = 0;
  private waiting: { data: Uint8Array; done: (r: { index: number }) => void }[] = [];

  propose(data: Uint8Array): Promise<{ index: number }> {
    if (this.hold === 0) return Promise.resolve(this.apply(data));
    return new Promise((done) => {
      this.waiting.push({ data, done });
      if (this.waiting.length < this.hold) return;
      this.hold = 0;
      for (const w of this.waiting.splice(0)) w.done(this.apply(w.data));
    });
  }

  private apply(data: Uint8Array): { index: number } {
    const index = ++this.index;
    for (const r of this.replicas) r.applyCommitted(index, data);
    return { index };
  }
}

test('networks: creates racing on the same state never get overlapping subnets', async (t) => {
  const proposer = new HoldingProposer();
  const store = new MemoryStore({ proposer });
  proposer.replicas.push(store);
  await withCluster(store);
  const app = createHttpServer(
    createLogger({}, () => undefined),
    [controlRoutes(() => store)],
  );
  // Both transactions are built before either commits; the loser is rebuilt on the winner's state.
  proposer.hold = 2;
  const [a, b] = await Promise.all([createNet(app, body('one')), createNet(app, body('two'))]);
  t.is(a.statusCode, 201);
  t.is(b.statusCode, 201);
  const nets = store.view((tx) => tx.all('network')) as Network[];
  const subnets = nets.map((n) => n.IPAMOptions!.Configs![0]!.Subnet).sort();
  t.deepEqual(subnets, ['198.19.0.0/24', '198.19.1.0/24']);
  const vnis = nets.map((n) => n.DriverState.Options![VXLAN]).sort();
  t.deepEqual(vnis, ['4096', '4097']);

  proposer.hold = 2;
  const [c, d] = await Promise.all([
    createNet(app, body('three', { subnet: '198.19.90.0/24' })),
    createNet(app, body('four', { subnet: '198.19.90.0/25' })),
  ]);
  t.deepEqual([c.statusCode, d.statusCode].sort(), [201, 400]);
  t.is([c, d].find((r) => r.statusCode === 400)!.json().message, OVERLAP_MESSAGE);
});
