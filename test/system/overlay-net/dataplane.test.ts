import test from 'ava';
import { once } from 'node:events';
import { GW_SUBNET, Rig, inNs, links, namespaces, ping, sh } from './dataplane-rig.js';
import { macForIp, NFT } from '../../../overlay-net/index.js';

const NET = { id: 'net1', vni: 4100, subnet: '198.19.7.0/24', gateway: '198.19.7.1' };

function sandboxOf(rig: Rig, i: number): string {
  const path = rig.nodes[i]!.dp.sandboxNetns(NET.id);
  if (!path) throw new Error(`node ${i} has no sandbox for ${NET.id}`);
  return path.replace('/run/netns/', '');
}

/** What a node left in its host namespace and in /run/netns. */
function leftovers(rig: Rig, i: number): { netns: string[]; links: string[]; nft: string } {
  const n = rig.nodes[i]!;
  return {
    netns: namespaces().filter((ns) => ns.startsWith(`tss-ov-${n.nodeId.slice(0, 8)}-`)),
    links: links(n.host.netns).filter((l) => l !== 'lo' && l !== 'eth0'),
    nft: inNs(n.host.netns, [NFT, 'list', 'tables']).trim(),
  };
}

test('containers on two hosts reach each other over the VXLAN overlay; peer removal and teardown leave nothing', async (t) => {
  const rig = await Rig.create();
  t.teardown(() => rig.destroy());
  const [n1, n2] = rig.nodes as [(typeof rig.nodes)[0], (typeof rig.nodes)[0]];
  await Promise.all([n1.dp.start(), n2.dp.start()]);
  await Promise.all([n1.dp.ensureNetwork(NET), n2.dp.ensureNetwork(NET)]);
  await n1.dp.ensureNetwork(NET); // idempotent
  await t.throwsAsync(n1.dp.ensureNetwork({ ...NET, vni: 4101 }), {
    message: /already set up with VNI 4100/,
  });

  const c1 = rig.container('c1');
  const c2 = rig.container('c2');
  await n1.dp.attach({ netnsPath: c1.path, networkId: NET.id, address: '198.19.7.2/24', ifname: 'eth0' });
  await n2.dp.attach({ netnsPath: c2.path, networkId: NET.id, address: '198.19.7.3/24', ifname: 'eth0' });
  await t.throwsAsync(
    n1.dp.attach({ netnsPath: c1.path, networkId: NET.id, address: '198.19.7.9/24', ifname: 'eth1' }),
    { message: /already attached/ },
  );
  t.regex(sh('ip', ['-n', c1.ns, 'link', 'show', 'eth0']), new RegExp(macForIp('198.19.7.2')));

  // No peers yet: nothing crosses.
  t.false(ping(c1.ns, '198.19.7.3'));

  // Each node gets the whole table, its own tasks included; those are ignored.
  const peers = [
    { ip: '198.19.7.2', nodeAddr: n1.host.addr },
    { ip: '198.19.7.3', nodeAddr: n2.host.addr },
  ];
  await Promise.all([n1.dp.setPeers(NET.id, peers), n2.dp.setPeers(NET.id, peers)]);
  t.true(ping(c1.ns, '198.19.7.3'), 'c1 → c2');
  t.true(ping(c2.ns, '198.19.7.2'), 'c2 → c1');

  const sb1 = sandboxOf(rig, 0);
  const mac3 = macForIp('198.19.7.3');
  const fdb = () => sh('bridge', ['-n', sb1, 'fdb', 'show', 'dev', 'tsvx4100']);
  const neigh = () => sh('ip', ['-n', sb1, 'neigh', 'show', 'dev', 'tsvx4100']);
  t.regex(
    fdb(),
    new RegExp(`${mac3} dst ${n2.host.addr.replace(/\./g, '\\.')} (link-netnsid \\d+ )?self permanent`),
  );
  t.regex(neigh(), new RegExp(`198\\.19\\.7\\.3 lladdr ${mac3} PERMANENT`));
  t.notRegex(fdb(), new RegExp(macForIp('198.19.7.2')), 'no entry for the local container');

  // Peer c2 goes away: its entries are removed and c1 can no longer reach it.
  await n1.dp.setPeers(NET.id, [peers[0]!]);
  t.notRegex(fdb(), new RegExp(mac3));
  t.notRegex(neigh(), /198\.19\.7\.3/);
  t.false(ping(c1.ns, '198.19.7.3'));
  // And comes back.
  await n1.dp.setPeers(NET.id, peers);
  t.true(ping(c1.ns, '198.19.7.3'));

  // Detach removes the container's interface on both sides.
  await n1.dp.detach(c1.path);
  t.deepEqual(links(c1.ns), ['lo']);
  t.deepEqual(
    links(sb1).filter((l) => l.startsWith('ve')),
    [],
  );

  await n1.dp.removeNetwork(NET.id);
  t.is(n1.dp.sandboxNetns(NET.id), undefined);
  t.false(namespaces().includes(sb1));
  t.deepEqual(
    links(n1.host.netns).filter((l) => l.startsWith('tsvx')),
    [],
  );

  // stop() removes the rest, including a container still attached on node 2.
  await Promise.all([n1.dp.stop(), n2.dp.stop()]);
  t.deepEqual(links(c2.ns), ['lo']);
  for (const i of [0, 1]) t.deepEqual(leftovers(rig, i), { netns: [], links: [], nft: '' });
});

test('egress through tss_gwbridge is masqueraded to the host address; gateway addresses are reused; containers are isolated there', async (t) => {
  const rig = await Rig.create();
  t.teardown(() => rig.destroy());
  const [n1, n2] = rig.nodes as [(typeof rig.nodes)[0], (typeof rig.nodes)[0]];
  await n1.dp.start();
  t.is(inNs(n1.host.netns, ['sysctl', '-n', 'net.ipv4.ip_forward']).trim(), '1');
  t.is(n1.dp.gatewayAddress, '198.19.255.1');

  // A listener on host 2's underlay address that answers with the source address it sees.
  const server = rig.spawn([
    'nsenter',
    `--net=/run/netns/${n2.host.netns}`,
    process.execPath,
    '-e',
    `const s = require('net').createServer((c) => c.end(c.remoteAddress));
     s.listen(0, process.argv[1], () => console.log(s.address().port));`,
    n2.host.addr,
  ]);
  const [chunk] = (await once(server.stdout!, 'data')) as [Buffer];
  const port = Number(chunk.toString().trim());

  const c1 = rig.container('c1');
  await n1.dp.attachGateway(c1.path);
  const ip1 = n1.dp.gatewayAddressOf(c1.path)!;
  t.is(ip1, '198.19.255.2');
  t.regex(sh('ip', ['-n', c1.ns, 'route', 'show', 'default']), /default via 198\.19\.255\.1 dev eth0/);
  const fetchFrom = (ns: string) =>
    inNs(ns, [
      process.execPath,
      '-e',
      `const c = require('net').connect(Number(process.argv[2]), process.argv[1]);
       let d = ''; c.on('data', (x) => (d += x)); c.on('end', () => { console.log(d); process.exit(0); });
       c.on('error', (e) => { console.error(e.message); process.exit(1); });
       setTimeout(() => { console.error('timeout'); process.exit(1); }, 5000);`,
      n2.host.addr,
      String(port),
    ]).trim();
  t.is(fetchFrom(c1.ns), n1.host.addr, 'the far side sees the node, not the container');

  // Host 2 cannot open a connection to the container's gateway address (only replies and DNAT go in).
  sh('ip', ['-n', n2.host.netns, 'route', 'add', GW_SUBNET, 'via', n1.host.addr]);
  t.false(ping(n2.host.netns, ip1));

  const c2 = rig.container('c2');
  await n1.dp.attachGateway(c2.path, 'gw0');
  t.is(n1.dp.gatewayAddressOf(c2.path), '198.19.255.3');
  t.true(ping(c2.ns, '198.19.255.1'), 'the gateway answers');
  t.false(ping(c2.ns, ip1), 'no container-to-container traffic over tss_gwbridge');

  // Detach frees the address: the next container gets it.
  await n1.dp.detach(c1.path);
  t.deepEqual(links(c1.ns), ['lo']);
  const c3 = rig.container('c3');
  await n1.dp.attachGateway(c3.path);
  t.is(n1.dp.gatewayAddressOf(c3.path), ip1);
  t.is(fetchFrom(c3.ns), n1.host.addr);

  // A container on internal networks only: the leg reaches the node (its resolver), nothing beyond.
  const c4 = rig.container('c4');
  await n1.dp.attachGateway(c4.path, 'eth0', { defaultRoute: false });
  t.is(sh('ip', ['-n', c4.ns, 'route', 'show', 'default']).trim(), '');
  t.true(ping(c4.ns, '198.19.255.1'));
  t.false(ping(c4.ns, n2.host.addr));

  await n1.dp.stop();
  t.deepEqual(leftovers(rig, 0), { netns: [], links: [], nft: '' });
  t.is(inNs(n1.host.netns, ['sysctl', '-n', 'net.ipv4.ip_forward']).trim(), '0', 'forwarding restored');
});

test('a restarted node removes what its earlier run left behind, and the overlay works again', async (t) => {
  const rig = await Rig.create();
  t.teardown(() => rig.destroy());
  const [n1, n2] = rig.nodes as [(typeof rig.nodes)[0], (typeof rig.nodes)[0]];
  await Promise.all([n1.dp.start(), n2.dp.start()]);
  await Promise.all([n1.dp.ensureNetwork(NET), n2.dp.ensureNetwork(NET)]);
  const c1 = rig.container('c1');
  await n1.dp.attach({ netnsPath: c1.path, networkId: NET.id, address: '198.19.7.2/24', ifname: 'eth0' });
  await n1.dp.attachGateway(c1.path);
  const before = sandboxOf(rig, 0);

  // The daemon on host 1 "crashes" (no stop()) and a new one starts with the same node ID.
  const crashed = n1.dp;
  n1.dp = rig.dataPlane(n1.host, n1.nodeId);
  await n1.dp.start();
  t.false(namespaces().includes(before), 'old sandbox removed');
  t.deepEqual(links(c1.ns), ['lo'], 'old veths removed');
  t.deepEqual(
    links(n1.host.netns).filter((l) => l !== 'lo' && l !== 'eth0'),
    ['tss_gwbridge'],
  );
  void crashed;

  await n1.dp.ensureNetwork(NET);
  await n1.dp.attach({ netnsPath: c1.path, networkId: NET.id, address: '198.19.7.2/24', ifname: 'eth0' });
  const c2 = rig.container('c2');
  await n2.dp.attach({ netnsPath: c2.path, networkId: NET.id, address: '198.19.7.3/24', ifname: 'eth0' });
  const peers = [
    { ip: '198.19.7.2', nodeAddr: n1.host.addr },
    { ip: '198.19.7.3', nodeAddr: n2.host.addr },
  ];
  await Promise.all([n1.dp.setPeers(NET.id, peers), n2.dp.setPeers(NET.id, peers)]);
  t.true(ping(c1.ns, '198.19.7.3'));

  // A task that moves to another node: the entry follows it.
  const c3 = rig.container('c3');
  await n2.dp.detach(c2.path);
  await n1.dp.attach({ netnsPath: c3.path, networkId: NET.id, address: '198.19.7.3/24', ifname: 'eth0' });
  const moved = [peers[0]!, { ip: '198.19.7.3', nodeAddr: n1.host.addr }];
  await Promise.all([n1.dp.setPeers(NET.id, moved), n2.dp.setPeers(NET.id, moved)]);
  t.true(ping(c1.ns, '198.19.7.3'), 'local now');
  t.notRegex(sh('bridge', ['-n', sandboxOf(rig, 0), 'fdb', 'show', 'dev', 'tsvx4100']), /dst/);
  await Promise.all([n1.dp.stop(), n2.dp.stop()]);
  for (const i of [0, 1]) t.deepEqual(leftovers(rig, i), { netns: [], links: [], nft: '' });
});
