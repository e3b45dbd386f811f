import test from 'ava';
import {
  AddressSpace,
  AllocatorState,
  DYNAMIC_PORT_END,
  DYNAMIC_PORT_START,
  OVERLAP_MESSAGE,
  allocateNetworkStatus,
  carveSubnet,
  chooseSubnet,
  isIngress,
  newIngressNetwork,
  nextVni,
  portInUseMessage,
  type AddressPools,
} from '../../../manager/allocator/index.js';
import { POOL_EXHAUSTED_MESSAGE } from '../../../manager/allocator/ipam.js';
import { formatCidr, formatIPv4, parseCidr, parseIPv4 } from '../../../api/index.js';
import type {
  EndpointMode,
  Network,
  NetworkAttachment,
  PortConfig,
  PortProtocol,
  Service,
  Task,
} from '../../../api/index.js';
import { rng } from '../../support/rng.js';

const cidr = (text: string) => parseCidr(text, 'subnet', false);
const ip = (text: string) => parseIPv4(text)!;

// ---- IPAM

test('carveSubnet: the first free block of the pools, skipping taken and overlapping ones', (t) => {
  const pool = ['198.19.0.0/16'];
  t.is(formatCidr(carveSubnet(pool, 24, [])), '198.19.0.0/24');
  t.is(formatCidr(carveSubnet(pool, 24, [cidr('198.19.0.0/24'), cidr('198.19.1.0/24')])), '198.19.2.0/24');
  t.is(formatCidr(carveSubnet(pool, 24, [cidr('198.19.0.0/20')])), '198.19.16.0/24', 'a bigger taken block');
  t.is(
    formatCidr(carveSubnet(pool, 24, [cidr('198.19.0.128/25')])),
    '198.19.1.0/24',
    'a smaller taken block',
  );
  t.is(formatCidr(carveSubnet(pool, 26, [cidr('198.19.0.0/26')])), '198.19.0.64/26');
  t.is(
    formatCidr(
      carveSubnet(['198.19.0.0/23', '198.19.8.0/24'], 24, [cidr('198.19.0.0/24'), cidr('198.19.1.0/24')]),
    ),
    '198.19.8.0/24',
    'the next pool once the first is full',
  );
  t.throws(() => carveSubnet(['198.19.0.0/23'], 24, [cidr('198.19.0.0/23')]), {
    message: POOL_EXHAUSTED_MESSAGE,
  });
  t.throws(() => carveSubnet(pool, 8, []), {
    message: 'invalid subnet size 8 for address pool 198.19.0.0/16',
  });
  t.throws(() => carveSubnet(pool, 31, []), { message: /invalid subnet size 31/ });
});

test('chooseSubnet: explicit subnets must not overlap; gateway and ip-range must lie inside', (t) => {
  const pools = ['198.19.0.0/16'];
  const taken = [cidr('198.19.50.0/24')];
  const c = chooseSubnet({ Subnet: '198.19.60.0/24' }, pools, 24, taken);
  t.deepEqual(
    [formatCidr(c.subnet), formatIPv4(c.gateway), formatCidr(c.range)],
    ['198.19.60.0/24', '198.19.60.1', '198.19.60.0/24'],
  );
  for (const s of ['198.19.50.0/24', '198.19.50.128/25', '198.19.0.0/16', '198.19.50.4/30'])
    t.throws(() => chooseSubnet({ Subnet: s }, pools, 24, taken), { message: OVERLAP_MESSAGE }, s);
  const g = chooseSubnet(
    { Subnet: '198.19.61.0/24', Gateway: '198.19.61.254', IPRange: '198.19.61.128/25' },
    pools,
    24,
    taken,
  );
  t.deepEqual([formatIPv4(g.gateway), formatCidr(g.range)], ['198.19.61.254', '198.19.61.128/25']);
  const bad: [object, string | RegExp][] = [
    [{ Subnet: '198.19.61.0/24', Gateway: '198.19.62.1' }, 'no matching subnet for gateway 198.19.62.1'],
    [{ Subnet: '198.19.61.0/24', Gateway: '198.19.61.0' }, 'no matching subnet for gateway 198.19.61.0'],
    [{ Subnet: '198.19.61.0/24', Gateway: '198.19.61.255' }, 'no matching subnet for gateway 198.19.61.255'],
    [{ Subnet: '198.19.61.0/24', Gateway: 'gw' }, 'invalid gateway gw: not an IPv4 address'],
    [{ Subnet: '198.19.61.0/24', IPRange: '198.19.62.0/25' }, 'no matching subnet for range 198.19.62.0/25'],
    [{ Subnet: '198.19.61.0/24', IPRange: '198.19.60.0/23' }, 'no matching subnet for range 198.19.60.0/23'],
    [{ Gateway: '198.19.61.1' }, 'invalid network config: a gateway or ip-range needs a subnet'],
    [{ Subnet: '198.19.61.5/24' }, 'invalid subnet 198.19.61.5/24: it should be 198.19.61.0/24'],
    [{ Subnet: '198.19.61.0/31' }, /too small/],
    [{ Subnet: 'fd00::/64' }, /not an IPv4 CIDR address/],
  ];
  for (const [req, message] of bad) t.throws(() => chooseSubnet(req, pools, 24, taken), { message });
  const carved = chooseSubnet(undefined, pools, 24, taken);
  t.is(formatCidr(carved.subnet), '198.19.0.0/24');
});

test('AddressSpace: never the network, broadcast or gateway address; serial reuse; exhaustion', (t) => {
  const space = new AddressSpace(cidr('198.19.5.0/29'), ip('198.19.5.1'));
  const got: string[] = [];
  for (let i = 0; i < 5; i++) got.push(space.allocate());
  t.deepEqual(got, ['198.19.5.2/29', '198.19.5.3/29', '198.19.5.4/29', '198.19.5.5/29', '198.19.5.6/29']);
  t.throws(() => space.allocate(), { message: /^no available IPv4 addresses/ });
  space.release('198.19.5.3/29');
  t.is(space.allocate(), '198.19.5.3/29');

  const gw = new AddressSpace(cidr('198.19.6.0/29'), ip('198.19.6.3'));
  const all = [1, 2, 3, 4, 5].map(() => gw.allocate());
  t.deepEqual(all, ['198.19.6.1/29', '198.19.6.2/29', '198.19.6.4/29', '198.19.6.5/29', '198.19.6.6/29']);

  const ranged = new AddressSpace(cidr('198.19.7.0/29'), ip('198.19.7.1'), cidr('198.19.7.0/30'));
  t.deepEqual([ranged.allocate(), ranged.allocate()], ['198.19.7.2/29', '198.19.7.3/29']);
  t.throws(() => ranged.allocate());

  const serial = new AddressSpace(cidr('198.19.8.0/24'), ip('198.19.8.1'));
  const first = serial.allocate();
  serial.release(first);
  t.not(serial.allocate(), first, 'a freed address is not handed out again at once');
  t.false(serial.reserve('198.19.8.1/24'), 'the gateway cannot be reserved');
  t.false(serial.reserve('198.19.9.7/24'), 'outside the subnet');
  t.true(serial.reserve('198.19.8.77/24'));
  t.false(serial.reserve('198.19.8.77/24'), 'taken twice');
  t.true(serial.has('198.19.8.77'));
});

test('nextVni and allocateNetworkStatus: lowest free VNI, Docker option and IPAM shapes', (t) => {
  t.is(nextVni(new Set()), 4096);
  t.is(nextVni(new Set([4096, 4097, 4099])), 4098);
  const pools: AddressPools = { DefaultAddrPool: ['198.19.0.0/16'], SubnetSize: 24 };
  const ingress = newIngressNetwork('ing', pools, '2024-01-01T00:00:00Z');
  t.deepEqual(ingress.IPAMOptions!.Configs, [{ Subnet: '198.19.0.0/24', Gateway: '198.19.0.1' }]);
  t.is(ingress.DriverState.Options!['com.docker.network.driver.overlay.vxlanid_list'], '4096');
  const next = allocateNetworkStatus(
    { Name: 'appnet', IPAMOptions: { Driver: { Name: 'default' } } },
    [ingress],
    pools,
  );
  t.deepEqual(next.IPAMOptions!.Configs, [{ Subnet: '198.19.1.0/24', Gateway: '198.19.1.1' }]);
  t.is(next.DriverState.Options!['com.docker.network.driver.overlay.vxlanid_list'], '4097');
  t.throws(
    () =>
      allocateNetworkStatus(
        { Name: 'x', IPAMOptions: { Driver: { Name: 'default' }, Configs: [{ Subnet: '198.19.0.0/23' }] } },
        [ingress],
        pools,
      ),
    { message: OVERLAP_MESSAGE },
  );
});

// ---- AllocatorState property test

/** A small pool so addresses run out now and then: every failure must leave the state as it was. */
const POOLS: AddressPools = { DefaultAddrPool: ['198.19.0.0/16'], SubnetSize: 28 };
const EXPLICIT_PORTS = [8080, 8081, DYNAMIC_PORT_START, DYNAMIC_PORT_START + 1];

function makeNetworks(): Network[] {
  const ingress = newIngressNetwork('net-ingress', POOLS, '');
  const out = [ingress];
  for (const name of ['appnet', 'backnet']) {
    const spec = { Name: name, Labels: {}, DriverConfiguration: { Name: 'overlay' } };
    out.push({
      ID: `net-${name}`,
      Version: { Index: 1 },
      CreatedAt: '',
      UpdatedAt: '',
      Spec: spec,
      ...allocateNetworkStatus(spec, out, POOLS),
    });
  }
  return out;
}

const addrs = (a: NetworkAttachment[] | undefined) => a?.map((x) => [x.Network.ID, x.Addresses]);
const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

function randomService(r: () => number, id: string, overlays: string[]): Service {
  const mode: EndpointMode = r() < 0.25 ? 'dnsrr' : 'vip';
  const ports: PortConfig[] = [];
  for (let i = Math.floor(r() * 3); i > 0; i--) {
    const host = mode === 'dnsrr' || r() < 0.2;
    ports.push({
      Protocol: pick<PortProtocol>(r, ['tcp', 'tcp', 'udp']),
      TargetPort: 1 + Math.floor(r() * 100),
      PublishedPort: r() < 0.5 ? 0 : pick(r, EXPLICIT_PORTS),
      PublishMode: host ? 'host' : 'ingress',
    });
  }
  const networks = overlays.filter(() => r() < 0.5).map((Target) => ({ Target }));
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: {
      Name: `svc-${id}`,
      TaskTemplate: { ContainerSpec: { Image: 'busybox' }, Networks: networks },
      EndpointSpec: { Mode: mode, Ports: ports },
    },
  };
}

function taskOf(id: string, s: Service): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: s.Spec.TaskTemplate,
    ServiceID: s.ID,
    Status: { Timestamp: '', State: 'new', Message: '' },
    DesiredState: 'running',
  };
}

/** What the model says each holder has: the allocator's usage must be exactly this. */
interface Model {
  services: Map<
    string,
    { service: Service; ports: PortConfig[]; vips: { NetworkID: string; Addr: string }[] }
  >;
  tasks: Map<string, NetworkAttachment[]>;
  nodes: Map<string, NetworkAttachment>;
}

function expectedUsage(m: Model, networks: Network[]) {
  const addresses: Record<string, string[]> = Object.fromEntries(networks.map((n) => [n.ID, []]));
  const holders: string[] = [];
  const add = (net: string, addr: string, who: string) => {
    addresses[net]!.push(addr);
    holders.push(`${net} ${addr} ${who}`);
  };
  const ports: Record<string, string> = {};
  for (const [id, s] of m.services) {
    for (const v of s.vips) add(v.NetworkID, v.Addr, `service ${id}`);
    for (const p of s.ports) if (isIngress(p)) ports[`${p.Protocol}/${p.PublishedPort}`] = id;
  }
  for (const [id, atts] of m.tasks) for (const a of atts) add(a.Network.ID, a.Addresses[0]!, `task ${id}`);
  for (const [id, a] of m.nodes) add(a.Network.ID, a.Addresses[0]!, `node ${id}`);
  const order = (a: string, b: string) => ip(a.split('/')[0]!) - ip(b.split('/')[0]!);
  for (const k of Object.keys(addresses)) addresses[k]!.sort(order);
  return { addresses, ports, holders };
}

/** The error serviceEndpoint must throw for `s`, from the model's view of who holds which port. */
function expectedPortError(m: Model, s: Service): string | undefined {
  const seen: string[] = [];
  for (const p of (s.Spec.EndpointSpec?.Ports ?? []).filter((q) => isIngress(q) && q.PublishedPort)) {
    const key = `${p.Protocol}/${p.PublishedPort}`;
    if (seen.includes(key)) return `duplicate published port ${p.PublishedPort}/${p.Protocol}`;
    seen.push(key);
    for (const [id, held] of m.services) {
      if (id === s.ID) continue;
      if (held.ports.some((h) => isIngress(h) && `${h.Protocol}/${h.PublishedPort}` === key))
        return portInUseMessage(p.PublishedPort!, { id, name: held.service.Spec.Name });
    }
  }
  return undefined;
}

function runScenario(t: import('ava').ExecutionContext, seed: number, steps: number): void {
  const r = rng(seed);
  const networks = makeNetworks();
  const overlays = networks.filter((n) => !n.Spec.Ingress).map((n) => n.ID);
  const special = new Map(
    networks.map((n) => {
      const sub = cidr(n.IPAMOptions!.Configs![0]!.Subnet!);
      return [
        n.ID,
        [sub.base, sub.base + 2 ** (32 - sub.bits) - 1, ip(n.IPAMOptions!.Configs![0]!.Gateway!)],
      ];
    }),
  );
  const state = new AllocatorState();
  for (const n of networks) state.setNetwork(n);
  const m: Model = { services: new Map(), tasks: new Map(), nodes: new Map() };
  let failures = 0;
  let conflicts = 0;

  const check = (what: string) => {
    const want = expectedUsage(m, networks);
    const got = state.usage();
    t.deepEqual(got.addresses, want.addresses, `${what}: addresses (seed ${seed})`);
    t.deepEqual(got.ports, want.ports, `${what}: ports (seed ${seed})`);
    t.is(got.services, m.services.size);
    t.is(got.tasks, m.tasks.size);
    t.is(got.nodes, m.nodes.size);
    const seen = new Set<string>();
    for (const h of want.holders) {
      const [net, addr] = h.split(' ');
      const key = `${net} ${addr}`;
      if (seen.has(key)) t.fail(`${what}: ${key} handed out twice (seed ${seed})`);
      seen.add(key);
      if (special.get(net!)!.includes(ip(addr!.split('/')[0]!)))
        t.fail(`${what}: ${h} is a network, broadcast or gateway address (seed ${seed})`);
    }
  };

  for (let step = 0; step < steps; step++) {
    const x = r();
    const sid = `s${Math.floor(r() * 6)}`;
    const before = state.usage();
    if (x < 0.3) {
      const s = randomService(r, sid, overlays);
      const expected = expectedPortError(m, s);
      let endpoint;
      try {
        endpoint = state.serviceEndpoint(s);
      } catch (err) {
        failures++;
        const msg = (err as Error).message;
        if (expected) {
          conflicts++;
          t.is(msg, expected, `seed ${seed} step ${step}`);
        } else t.regex(msg, /^no available IPv4 addresses/, `seed ${seed} step ${step}`);
        t.deepEqual(state.usage(), before, `a failed endpoint changes nothing (seed ${seed} step ${step})`);
        continue;
      }
      t.is(expected, undefined, `expected "${expected}" (seed ${seed} step ${step})`);
      const ports = endpoint.Ports ?? [];
      for (const [i, p] of ports.entries()) {
        const asked = s.Spec.EndpointSpec!.Ports![i]!;
        if (!isIngress(p)) continue;
        if (asked.PublishedPort) t.is(p.PublishedPort, asked.PublishedPort);
        else t.true(p.PublishedPort! >= DYNAMIC_PORT_START && p.PublishedPort! <= DYNAMIC_PORT_END);
      }
      const vips = endpoint.VirtualIPs ?? [];
      const wantNets =
        s.Spec.EndpointSpec!.Mode === 'dnsrr'
          ? []
          : [
              ...(ports.some(isIngress) ? ['net-ingress'] : []),
              ...s.Spec.TaskTemplate.Networks!.map((n) => n.Target),
            ];
      t.deepEqual(
        vips.map((v) => v.NetworkID),
        wantNets,
      );
      m.services.set(sid, { service: s, ports, vips });
    } else if (x < 0.4) {
      state.releaseService(sid);
      m.services.delete(sid);
    } else if (x < 0.65) {
      const held = m.services.get(sid);
      if (!held) continue;
      const tid = `t${Math.floor(r() * 20)}`;
      try {
        const atts = state.taskAttachments(taskOf(tid, held.service), held.service);
        if (m.tasks.has(tid))
          t.deepEqual(addrs(atts), addrs(m.tasks.get(tid)), 'allocating twice returns what is held');
        else m.tasks.set(tid, atts);
      } catch (err) {
        failures++;
        t.regex((err as Error).message, /^no available IPv4 addresses/);
        t.deepEqual(state.usage(), before, `a failed task allocation changes nothing (seed ${seed})`);
      }
    } else if (x < 0.8) {
      const tid = pick(r, [...m.tasks.keys(), 'never-allocated']);
      state.releaseTask(tid);
      m.tasks.delete(tid);
    } else if (x < 0.9) {
      const nid = `n${Math.floor(r() * 8)}`;
      try {
        const a = state.nodeAttachment(nid)!;
        if (m.nodes.has(nid)) t.is(a.Addresses[0], m.nodes.get(nid)!.Addresses[0]);
        else m.nodes.set(nid, a);
      } catch (err) {
        failures++;
        t.regex((err as Error).message, /^no available IPv4 addresses/);
      }
    } else if (x < 0.96) {
      const nid = pick(r, [...m.nodes.keys(), 'n-none']);
      state.releaseNode(nid);
      m.nodes.delete(nid);
    } else {
      // A network object refreshed (a new version from the store): nothing held changes.
      const n = pick(r, networks);
      n.Version = { Index: n.Version.Index + 1 };
      state.setNetwork(structuredClone(n));
    }
    check(`seed ${seed} step ${step}`);
  }

  for (const id of [...m.services.keys()]) state.releaseService(id);
  for (const id of [...m.tasks.keys()]) state.releaseTask(id);
  for (const id of [...m.nodes.keys()]) state.releaseNode(id);
  const u = state.usage();
  t.deepEqual(u, {
    addresses: Object.fromEntries(networks.map((n) => [n.ID, []])),
    ports: {},
    tasks: 0,
    services: 0,
    nodes: 0,
  });
  t.log(`seed ${seed}: ${failures} refused steps (${conflicts} port conflicts, the rest out of addresses)`);
}

test('AllocatorState: random services, tasks and nodes never share an address or a port; all is released', (t) => {
  for (let seed = 1; seed <= 25; seed++) runScenario(t, seed, 400);
});

test('AllocatorState: an explicit port another service holds is refused with Docker message', (t) => {
  const state = new AllocatorState();
  for (const n of makeNetworks()) state.setNetwork(n);
  const svc = (id: string, ports: PortConfig[]): Service => ({
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Name: id === 'a' ? 'web' : 'api', TaskTemplate: {}, EndpointSpec: { Mode: 'vip', Ports: ports } },
  });
  const auto = state.serviceEndpoint(svc('a', [{ TargetPort: 80 }, { TargetPort: 81, PublishedPort: 8080 }]));
  t.deepEqual(
    auto.Ports!.map((p) => p.PublishedPort),
    [DYNAMIC_PORT_START, 8080],
  );
  t.throws(() => state.serviceEndpoint(svc('b', [{ TargetPort: 80, PublishedPort: 8080 }])), {
    message: "port '8080' is already in use by service 'web' (a) as an ingress port",
  });
  t.throws(() => state.serviceEndpoint(svc('b', [{ TargetPort: 80, PublishedPort: DYNAMIC_PORT_START }])), {
    message: `port '${DYNAMIC_PORT_START}' is already in use by service 'web' (a) as an ingress port`,
  });
  const udp = state.serviceEndpoint(svc('b', [{ TargetPort: 80, PublishedPort: 8080, Protocol: 'udp' }]));
  t.is(udp.Ports![0]!.PublishedPort, 8080);
  t.deepEqual(state.usage().ports, { 'tcp/30000': 'a', 'tcp/8080': 'a', 'udp/8080': 'b' });
});
