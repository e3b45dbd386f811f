import test from 'ava';
import {
  VXLAN_ID_OPTION,
  type Network,
  type Node,
  type Service,
  type Task,
  type TaskState,
} from '../../../api/index.js';
import { networkViews } from '../../../manager/dispatcher/network-views.js';

const net = (id: string, name: string, vni: number, octet: number, ingress = false): Network =>
  ({
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Name: name, Ingress: ingress },
    DriverState: { Name: 'overlay', Options: { [VXLAN_ID_OPTION]: String(vni) } },
    IPAMOptions: {
      Driver: { Name: 'default' },
      Configs: [{ Subnet: `198.19.${octet}.0/24`, Gateway: `198.19.${octet}.1` }],
    },
  }) as Network;

const node = (id: string, addr: string, attachments: Node['Attachments'] = []): Node =>
  ({ ID: id, Status: { State: 'ready', Addr: addr }, Attachments: attachments }) as unknown as Node;

const APP = net('netapp', 'appnet', 4097, 1);
const INGRESS = net('netingress', 'ingress', 4096, 0, true);

function task(
  id: string,
  nodeId: string,
  ip: string,
  state: TaskState = 'running',
  desired: TaskState = 'running',
) {
  return {
    ID: id,
    ServiceID: 'svcweb',
    Slot: Number(id.slice(1)),
    NodeID: nodeId,
    DesiredState: desired,
    Status: { State: state, Timestamp: '', Message: '' },
    Spec: { Networks: [{ Target: 'netapp', Aliases: ['www'] }] },
    NetworksAttachments: [{ Network: APP, Addresses: [`${ip}/24`] }],
  } as unknown as Task;
}

const web = {
  ID: 'svcweb',
  Spec: { Name: 'web', TaskTemplate: { Networks: [{ Target: 'netapp' }] } },
  Endpoint: {
    Spec: {},
    Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }],
    VirtualIPs: [
      { NetworkID: 'netapp', Addr: '198.19.1.2/24' },
      { NetworkID: 'netingress', Addr: '198.19.0.2/24' },
    ],
  },
} as unknown as Service;

const inputs = {
  networks: [APP, INGRESS],
  services: [web],
  nodes: [
    node('n1', '198.18.5.2', [{ Network: INGRESS, Addresses: ['198.19.0.3/24'] }]),
    node('n2', '198.18.5.3'),
    node('n3', '198.18.5.4'),
  ],
  tasks: [
    task('t1', 'n1', '198.19.1.5'),
    task('t2', 'n2', '198.19.1.6'),
    task('t3', 'n2', '198.19.1.7', 'starting'),
    task('t4', 'n2', '198.19.1.8', 'shutdown', 'shutdown'),
  ],
};

test('a node gets the networks its tasks are on, and ingress once a port is published', (t) => {
  t.deepEqual(
    networkViews('n1', inputs).map((v) => v.name),
    ['appnet', 'ingress'],
  );
  // n3 runs nothing: only the routing mesh's ingress.
  t.deepEqual(
    networkViews('n3', inputs).map((v) => v.name),
    ['ingress'],
  );
  const bare = {
    ...inputs,
    services: [{ ...web, Endpoint: { Spec: {}, VirtualIPs: [web.Endpoint!.VirtualIPs![0]!] } }],
  };
  t.deepEqual(
    networkViews('n3', bare as typeof inputs).map((v) => v.name),
    [],
  );
});

test('peers are every live address with its node; backends are the RUNNING tasks only', (t) => {
  const [app] = networkViews('n1', inputs);
  t.is(app!.vni, 4097);
  t.is(app!.subnet, '198.19.1.0/24');
  t.is(app!.gateway, '198.19.1.1');
  t.deepEqual(app!.peers, [
    { ip: '198.19.1.5', nodeAddr: '198.18.5.2' },
    { ip: '198.19.1.6', nodeAddr: '198.18.5.3' },
    { ip: '198.19.1.7', nodeAddr: '198.18.5.3' },
  ]);
  const [svc] = app!.services;
  t.is(svc!.vip, '198.19.1.2');
  t.deepEqual(svc!.aliases, ['www']);
  t.deepEqual(
    svc!.backends.map((b) => b.ip),
    ['198.19.1.5', '198.19.1.6'],
  );
  t.is(svc!.backends[0]!.name, 'web.1.t1');
  t.deepEqual(svc!.ports, [{ protocol: 'tcp', target: 80, published: 8080, mode: 'ingress' }]);
  // n1's own load-balancer address on ingress comes with its view only.
  t.is(networkViews('n1', inputs)[1]!.nodeAddress, '198.19.0.3/24');
  const ingress = networkViews('n3', inputs)[0]!;
  t.is(ingress.nodeAddress, undefined);
  // The node's own load-balancer address on ingress is a peer like a task's.
  t.deepEqual(ingress.peers, [{ ip: '198.19.0.3', nodeAddr: '198.18.5.2' }]);
});

test('an unallocated network (no VNI or subnet yet) is left out', (t) => {
  const raw = { ...APP, DriverState: { Name: 'overlay' } } as Network;
  t.deepEqual(networkViews('n1', { ...inputs, networks: [raw] }), []);
});
