// Overlay data path against real anchors, all in one run on two lab hosts (namespaces on a bridge):
//  - iperf3 TCP throughput and ping RTT between two containers on different hosts over our overlay (sandbox
//    bridge + VXLAN + static peers), over a raw VXLAN link set up by hand between the same two host namespaces,
//    and over a plain veth pair;
//  - requests/s (a new connection per request) through a service VIP (our nftables load balancer) and through
//    the routing mesh (node DNAT → ingress sandbox → task) to 3 backends, against the same client going
//    directly to one backend.
// Run: flock /tmp/tss-heavy.lock npm run bench:overlay   (BENCH_SECONDS, BENCH_ROUNDS override the length of a
// measurement and the number of rounds)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkView } from '../../api/index.js';
import { commandRunner, NFT, RoutingMesh, vipRuleset } from '../../overlay-net/index.js';
import { Rig, sh } from '../system/overlay-net/dataplane-rig.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const APP = { id: 'bench-app', vni: 4200, subnet: '198.19.40.0/24', gateway: '198.19.40.1' };
const INGRESS = { id: 'bench-ingress', vni: 4201, subnet: '198.19.41.0/24', gateway: '198.19.41.1' };
const VIP = '198.19.40.100';

const procs: ChildProcess[] = [];
const extraNs: string[] = [];
const www = mkdtempSync(join(tmpdir(), 'tss-bench-www-'));
writeFileSync(join(www, 'index.html'), 'ok\n');

function inNs(ns: string, argv: string[]): string {
  return sh('ip', ['netns', 'exec', ns, ...argv]);
}

function daemon(ns: string, argv: string[]): void {
  procs.push(spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' }));
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function iperf(clientNs: string, serverNs: string, serverIp: string): Promise<number> {
  daemon(serverNs, ['iperf3', '-s', '-1', '-B', serverIp]);
  await sleep(500);
  const out = JSON.parse(inNs(clientNs, ['iperf3', '-c', serverIp, '-t', String(SECONDS), '-J'])) as {
    end: { sum_received: { bits_per_second: number } };
  };
  return out.end.sum_received.bits_per_second / 1e9;
}

function rtt(ns: string, ip: string): number {
  const out = inNs(ns, ['busybox', 'ping', '-c', '20', '-i', '0.1', ip]);
  return Number(/= [\d.]+\/([\d.]+)\//.exec(out)?.[1] ?? NaN);
}

/** Completed GETs per second, each on a new connection, 16 at a time, from inside `ns`. */
function requestsPerSecond(ns: string, url: string): number {
  const script = `
    const http = require('http');
    const end = Date.now() + ${SECONDS * 1000}; let done = 0, failed = 0, active = 0;
    function one() {
      if (Date.now() >= end) { if (--active === 0) console.log(JSON.stringify({ done, failed })); return; }
      http.get(process.argv[1], { agent: false }, (res) => { res.resume(); res.on('end', () => { done++; one(); }); })
        .on('error', () => { failed++; one(); });
    }
    for (let i = 0; i < 16; i++) { active++; one(); }`;
  const r = JSON.parse(inNs(ns, [process.execPath, '-e', script, url])) as { done: number; failed: number };
  if (r.failed > r.done / 100) throw new Error(`${url}: ${r.failed} failed requests of ${r.done + r.failed}`);
  return r.done / SECONDS;
}

function row(name: string, value: number, unit: string, anchor?: number): string {
  const ratio = anchor ? `${(value / anchor).toFixed(2)}×` : '';
  return `| ${name.padEnd(44)} | ${value.toFixed(unit === 'Gbit/s' ? 2 : unit === 'ms' ? 3 : 0).padStart(9)} ${unit.padEnd(7)} | ${ratio.padStart(6)} |`;
}

const rig = await Rig.create();
try {
  const [n1, n2] = rig.nodes as [(typeof rig.nodes)[0], (typeof rig.nodes)[0]];
  await Promise.all([n1.dp.start(), n2.dp.start()]);
  for (const net of [APP, INGRESS]) await Promise.all([n1.dp.ensureNetwork(net), n2.dp.ensureNetwork(net)]);

  // Containers: a client on host 1, three web backends on host 2 (on the app network and on ingress).
  const client = rig.container('client');
  await n1.dp.attach({
    netnsPath: client.path,
    networkId: APP.id,
    address: '198.19.40.2/24',
    ifname: 'eth0',
  });
  const backends = ['198.19.40.11', '198.19.40.12', '198.19.40.13'];
  const ingressIps = ['198.19.41.11', '198.19.41.12', '198.19.41.13'];
  for (let i = 0; i < 3; i++) {
    const c = rig.container(`web${i}`);
    await n2.dp.attach({
      netnsPath: c.path,
      networkId: INGRESS.id,
      address: `${ingressIps[i]}/24`,
      ifname: 'eth0',
    });
    await n2.dp.attach({
      netnsPath: c.path,
      networkId: APP.id,
      address: `${backends[i]}/24`,
      ifname: 'eth1',
    });
    daemon(c.ns, ['busybox', 'httpd', '-f', '-p', '80', '-h', www]);
  }
  const appPeers = [
    { ip: '198.19.40.2', nodeAddr: n1.host.addr },
    ...backends.map((ip) => ({ ip, nodeAddr: n2.host.addr })),
  ];
  const ingressPeers = [
    { ip: '198.19.41.2', nodeAddr: n1.host.addr },
    ...ingressIps.map((ip) => ({ ip, nodeAddr: n2.host.addr })),
  ];
  for (const n of [n1, n2]) {
    await n.dp.setPeers(APP.id, appPeers);
    await n.dp.setPeers(INGRESS.id, ingressPeers);
  }

  // Set up every path first: raw VXLAN between the host namespaces, a plain veth pair, the VIP in the client's
  // namespace, the routing mesh on host 1 with a client outside the swarm.
  for (const [n, local, remote, ip] of [
    [n1, n1.host.addr, n2.host.addr, '198.19.42.1'],
    [n2, n2.host.addr, n1.host.addr, '198.19.42.2'],
  ] as const) {
    inNs(n.host.netns, [
      'ip',
      'link',
      'add',
      'tssraw',
      'mtu',
      '1450',
      'type',
      'vxlan',
      'id',
      '4300',
      'local',
      local,
      'remote',
      remote,
      'dstport',
      '4790',
    ]);
    inNs(n.host.netns, ['ip', 'addr', 'add', `${ip}/24`, 'dev', 'tssraw']);
    inNs(n.host.netns, ['ip', 'link', 'set', 'tssraw', 'up']);
  }
  const va = `tss-${rig.id}-va`;
  const vb = `tss-${rig.id}-vb`;
  extraNs.push(va, vb);
  sh('ip', ['netns', 'add', va]);
  sh('ip', ['netns', 'add', vb]);
  sh('ip', ['-n', va, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vb]);
  sh('ip', ['-n', va, 'addr', 'add', '198.19.43.1/24', 'dev', 'eth0']);
  sh('ip', ['-n', vb, 'addr', 'add', '198.19.43.2/24', 'dev', 'eth0']);
  for (const ns of [va, vb]) sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  execFileSync('nsenter', [`--net=${client.path}`, NFT, '-f', '-'], {
    input: vipRuleset([{ vip: VIP, backends }]),
  });
  const view: NetworkView = {
    ...INGRESS,
    name: 'ingress',
    ingress: true,
    internal: false,
    peers: ingressPeers,
    nodeAddress: '198.19.41.2/24',
    services: [
      {
        id: 'web',
        name: 'web',
        mode: 'vip',
        aliases: [],
        ports: [{ protocol: 'tcp', target: 80, published: 8080, mode: 'ingress' }],
        backends: ingressIps.map((ip, i) => ({ taskId: `t${i}`, name: `web.${i + 1}.t${i}`, ip })),
      },
    ],
  };
  const mesh = new RoutingMesh(
    n1.dp,
    n1.nodeId,
    commandRunner(['nsenter', `--net=/run/netns/${n1.host.netns}`]),
  );
  await mesh.update([view]);
  const outside = await rig.lab.addHost('cl');

  // Then measure in rounds, the paths interleaved, and keep each one's median: one run of each on a 2-core
  // machine swings by ±20 %.
  const web0 = `tss-${rig.id}-web0`;
  const samples: Record<string, number[]> = {};
  const take = (name: string, v: number) => (samples[name] ??= []).push(v);
  for (let round = 0; round < ROUNDS; round++) {
    take('rawGbps', await iperf(n1.host.netns, n2.host.netns, '198.19.42.2'));
    take('overlayGbps', await iperf(client.ns, web0, backends[0]!));
    take('vethGbps', await iperf(va, vb, '198.19.43.2'));
    take('rawRtt', rtt(n1.host.netns, '198.19.42.2'));
    take('overlayRtt', rtt(client.ns, backends[0]!));
    take('vethRtt', rtt(va, '198.19.43.2'));
    take('direct', requestsPerSecond(client.ns, `http://${backends[0]}/`));
    take('viaVip', requestsPerSecond(client.ns, `http://${VIP}/`));
    take('viaMesh', requestsPerSecond(outside.netns, `http://${n1.host.addr}:8080/`));
  }
  await mesh.stop();
  const median = (name: string) => {
    const v = [...samples[name]!].sort((x, y) => x - y);
    return v[Math.floor(v.length / 2)]!;
  };
  const [rawGbps, overlayGbps, vethGbps, rawRtt, overlayRtt, vethRtt, direct, viaVip, viaMesh] = [
    'rawGbps',
    'overlayGbps',
    'vethGbps',
    'rawRtt',
    'overlayRtt',
    'vethRtt',
    'direct',
    'viaVip',
    'viaMesh',
  ].map(median) as [number, number, number, number, number, number, number, number, number];

  console.log(`overlay benchmark: medians of ${ROUNDS} rounds, ${SECONDS} s per measurement, 2 lab hosts`);
  console.log('| measurement                                  |             value | ratio  |');
  console.log('|----------------------------------------------|-------------------|--------|');
  console.log(row('iperf3 TCP, raw VXLAN between hosts (anchor)', rawGbps, 'Gbit/s'));
  console.log(row('iperf3 TCP, our overlay container→container', overlayGbps, 'Gbit/s', rawGbps));
  console.log(row('iperf3 TCP, plain veth', vethGbps, 'Gbit/s', rawGbps));
  console.log(row('ping RTT, raw VXLAN', rawRtt, 'ms'));
  console.log(row('ping RTT, our overlay', overlayRtt, 'ms', rawRtt));
  console.log(row('ping RTT, plain veth', vethRtt, 'ms', rawRtt));
  console.log(row('HTTP req/s direct to one backend (anchor)', direct, 'req/s'));
  console.log(row('HTTP req/s through the VIP to 3 backends', viaVip, 'req/s', direct));
  console.log(row('HTTP req/s through the routing mesh', viaMesh, 'req/s', direct));
} finally {
  for (const p of procs) p.kill('SIGKILL');
  for (const ns of extraNs) sh('ip', ['netns', 'del', ns]);
  await rig.destroy();
  rmSync(www, { recursive: true, force: true });
}
