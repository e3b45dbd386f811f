import test from 'ava';
import type { NetworkView, ServiceView } from '../../../api/index.js';
import {
  dnsNames,
  hostPortRuleset,
  hostPorts,
  meshPorts,
  nodeMeshRuleset,
  sandboxMeshRuleset,
  vipRuleset,
  vipTargets,
} from '../../../overlay-net/index.js';

const svc = (name: string, extra: Partial<ServiceView> = {}): ServiceView => ({
  id: `id-${name}`,
  name,
  mode: 'vip',
  aliases: [],
  ports: [],
  backends: [],
  ...extra,
});
const backends = (name: string, ips: string[]) =>
  ips.map((ip, i) => ({ taskId: `t${i}`, name: `${name}.${i + 1}.t${i}`, ip }));

const view = (id: string, services: ServiceView[], extra: Partial<NetworkView> = {}): NetworkView => ({
  id,
  name: id,
  vni: 4097,
  subnet: '198.19.1.0/24',
  gateway: '198.19.1.1',
  ingress: false,
  internal: false,
  peers: [],
  services,
  ...extra,
});

const app = view('app', [
  svc('web', {
    vip: '198.19.1.2',
    aliases: ['www'],
    backends: backends('web', ['198.19.1.5', '198.19.1.4']),
  }),
  svc('db', { mode: 'dnsrr', backends: backends('db', ['198.19.1.9']) }),
  svc('idle', { vip: '198.19.1.3' }),
]);
const other = view('other', [svc('api', { vip: '198.19.2.2', backends: backends('api', ['198.19.2.5']) })]);
const ingress = view(
  'ing',
  [
    svc('web', {
      vip: '198.19.0.2',
      ports: [
        { protocol: 'tcp', target: 80, published: 8080, mode: 'ingress' },
        { protocol: 'udp', target: 53, published: 5353, mode: 'ingress' },
        { protocol: 'tcp', target: 22, published: 2222, mode: 'host' },
      ],
      backends: backends('web', ['198.19.0.5', '198.19.0.6']),
    }),
  ],
  { ingress: true },
);

test('VIP targets: vip-mode services of the container’s networks only, never ingress or dnsrr', (t) => {
  t.deepEqual(vipTargets([app, other, ingress], new Set(['app', 'ing'])), [
    { vip: '198.19.1.2', backends: ['198.19.1.5', '198.19.1.4'] },
    { vip: '198.19.1.3', backends: [] },
  ]);
  t.deepEqual(vipTargets([app], new Set()), []);
});

test('VIP ruleset: round robin over the backends, a VIP without backends refuses, the table is replaced whole', (t) => {
  const rules = vipRuleset(vipTargets([app], new Set(['app'])));
  t.regex(rules, /^table ip tss_lb \{\}\ndelete table ip tss_lb\ntable ip tss_lb \{/);
  t.true(
    rules.includes('ip daddr 198.19.1.2 dnat to numgen inc mod 2 map { 0 : 198.19.1.5, 1 : 198.19.1.4 }'),
  );
  t.true(rules.includes('ip daddr 198.19.1.3 meta l4proto tcp reject with tcp reset'));
  t.false(rules.includes('198.19.1.9'), 'dnsrr services have no VIP');
});

test('DNS names: service and aliases → VIP (or task IPs in dnsrr), tasks.<service>, task names; scoped by network', (t) => {
  const names = dnsNames([app, other, ingress], new Set(['app', 'ing']));
  t.deepEqual(names['web'], ['198.19.1.2']);
  t.deepEqual(names['www'], ['198.19.1.2']);
  t.deepEqual(names['tasks.web'], ['198.19.1.4', '198.19.1.5']);
  t.deepEqual(names['web.1.t0'], ['198.19.1.5']);
  t.deepEqual(names['db'], ['198.19.1.9']);
  t.deepEqual(names['tasks.idle'], []);
  t.false('api' in names, 'not on that network');
  t.false(
    Object.values(names)
      .flat()
      .some((ip) => ip.startsWith('198.19.0.')),
    'nothing from ingress',
  );
});

test('routing mesh: ingress-mode published ports only; node rules DNAT to the sandbox, sandbox rules to tasks', (t) => {
  const ports = meshPorts([app, ingress]);
  t.deepEqual(
    ports.map((p) => `${p.protocol}/${p.published}->${p.target}`),
    ['udp/5353->53', 'tcp/8080->80'],
  );
  const node = nodeMeshRuleset(ports, '198.19.255.2');
  t.true(node.includes('fib daddr type local tcp dport 8080 dnat to 198.19.255.2'));
  t.true(node.includes('fib daddr type local udp dport 5353 dnat to 198.19.255.2'));
  t.false(node.includes('2222'), 'host-mode ports are not meshed');
  const sandbox = sandboxMeshRuleset(ports, 'eth0');
  t.true(
    sandbox.includes(
      'tcp dport 8080 dnat ip to numgen inc mod 2 map { 0 : 198.19.0.5 . 80, 1 : 198.19.0.6 . 80 }',
    ),
  );
  t.true(sandbox.includes('oifname "eth0" ct status dnat masquerade'));
  const none = sandboxMeshRuleset(
    meshPorts([view('ing', [svc('web', { ports: ingress.services[0]!.ports })], { ingress: true })]),
    'eth0',
  );
  t.true(none.includes('tcp dport 8080 reject with tcp reset'), 'no running task: refused at once');
});

test('host-mode ports: only this node’s tasks of the service, at their gateway-bridge address', (t) => {
  const local = [
    { serviceId: 'id-web', gatewayAddr: '198.19.255.3' },
    { serviceId: 'id-other', gatewayAddr: '198.19.255.4' },
  ];
  const ports = hostPorts([ingress], local);
  t.deepEqual(ports, [{ protocol: 'tcp', published: 2222, target: 22, backends: ['198.19.255.3'] }]);
  t.true(
    hostPortRuleset(ports).includes(
      'fib daddr type local tcp dport 2222 dnat ip to numgen inc mod 1 map { 0 : 198.19.255.3 . 22 }',
    ),
  );
  t.deepEqual(hostPorts([ingress], [{ serviceId: 'id-other', gatewayAddr: '198.19.255.4' }]), []);
});
