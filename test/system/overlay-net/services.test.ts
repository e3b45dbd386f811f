// Overlay networking end to end on a lab (1 manager + 2 workers), driven by the stock docker CLI: tasks of a
// service reach each other by name across hosts through the VIP, `tasks.<service>` lists the task addresses,
// containers on different hosts ping each other over VXLAN, and a published port answers on every node.
// The tests share one lab and run in order.
// (busybox-static's wget crashes with -T, so requests are bounded with `timeout` instead.)
import test from 'ava';
import { execFileSync } from 'node:child_process';
import type { LabHost } from '../../../deploy/lab/index.js';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { startLabSwarm } from '../../support/lab-swarm.js';
import { dockerOn as docker, eventually, serviceContainers } from '../../support/lab-docker.js';

const HOSTS = ['m1', 'w1', 'w2'];
// The overlay pool's lower half is the allocator's; each node's gateway bridge takes a subnet of the upper half.
const INIT_ARGS = ['--default-addr-pool', '198.19.0.0/17'];
const DAEMON_ARGS = ['--gwbridge-subnet', '198.19.255.0/24'];

function ok(r: ReturnType<typeof docker>, what: string): string {
  if (r.status !== 0) throw new Error(`${what}: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

/** The host and container of each running task of `service`. */
function containersOf(lab: Lab, service: string): { host: string; id: string }[] {
  return HOSTS.flatMap((h) => serviceContainers(lab, h, service).map((id) => ({ host: h, id })));
}

let lab: Lab;

test.before(async () => {
  lab = await Lab.create({ tsswarm: cliCommand(), daemonArgs: DAEMON_ARGS });
  // A 5 s heartbeat: a worker daemon restarted in a test stays up for the managers (nothing here needs a
  // dead node noticed fast), so its tasks are adopted rather than replaced.
  await startLabSwarm(lab, { managers: ['m1'], workers: ['w1', 'w2'], initArgs: INIT_ARGS, heartbeat: '5s' });
  await lab.addHost('cl'); // a client on the lab network that is not a swarm node
});

test.after.always(async () => {
  await lab?.down();
});

test.serial('VIP, tasks.<service> and cross-host traffic on an overlay network (docker CLI)', async (t) => {
  t.timeout(300_000);
  ok(docker(lab, 'm1', ['network', 'create', '-d', 'overlay', 'appnet']), 'network create');
  const subnet = ok(
    docker(lab, 'm1', ['network', 'inspect', 'appnet', '--format', '{{(index .IPAM.Config 0).Subnet}}']),
    'network inspect',
  );
  t.regex(subnet, /^198\.19\.\d+\.0\/24$/);

  // Each web task serves its own hostname; the client only sleeps.
  const web = docker(lab, 'm1', [
    'service',
    'create',
    '--name',
    'web',
    '--replicas',
    '3',
    '--network',
    'appnet',
    '--stop-grace-period',
    '1s',
    'busybox:local',
    'sh',
    '-c',
    'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www',
  ]);
  t.is(web.status, 0, web.stderr);
  const client = docker(lab, 'm1', [
    'service',
    'create',
    '--name',
    'client',
    '--network',
    'appnet',
    '--stop-grace-period',
    '1s',
    'busybox:local',
    'sleep',
    '600',
  ]);
  t.is(client.status, 0, client.stderr);
  await eventually(() => containersOf(lab, 'web').length === 3, 30_000, '3 web containers');
  const [c] = containersOf(lab, 'client');
  t.truthy(c, 'a client container');
  const exec = (args: string[]) => docker(lab, c!.host, ['exec', c!.id, ...args]);

  // The VIP spreads requests over the three tasks.
  const hostnames = new Set<string>();
  await eventually(
    () => {
      const r = exec(['timeout', '5', 'wget', '-qO-', 'http://web/']);
      if (r.status === 0) hostnames.add(r.stdout.trim());
      return hostnames.size > 0;
    },
    20_000,
    'web answers through its VIP',
  );
  for (let i = 0; i < 30; i++) {
    const r = exec(['timeout', '5', 'wget', '-qO-', 'http://web/']);
    t.is(r.status, 0, r.stderr);
    hostnames.add(r.stdout.trim());
  }
  t.is(hostnames.size, 3, [...hostnames].join(' '));

  // tasks.web: the three task addresses.
  const ns = exec(['nslookup', 'tasks.web']);
  t.is(ns.status, 0, ns.stderr);
  const ips = [...ns.stdout.matchAll(/Name:\s*tasks\.web\s+Address(?: \d+)?:\s*(198\.19\.\d+\.\d+)/g)].map(
    (m) => m[1],
  );
  t.is(new Set(ips).size, 3, ns.stdout);

  // A task on another host answers a ping over VXLAN.
  const clientNode = ok(docker(lab, c!.host, ['info', '--format', '{{.Swarm.NodeID}}']), 'docker info');
  const taskIds = ok(
    docker(lab, 'm1', ['service', 'ps', 'web', '--filter', 'desired-state=running', '-q']),
    'service ps',
  ).split('\n');
  const placed = taskIds.map((id) =>
    ok(
      docker(lab, 'm1', [
        'inspect',
        '--type',
        'task',
        '--format',
        '{{.NodeID}} {{index (index .NetworksAttachments 0).Addresses 0}}',
        id,
      ]),
      'task inspect',
    ).split(' '),
  );
  const remote = placed.find(([node]) => node !== clientNode);
  t.truthy(remote, placed.join(' | '));
  const ip = remote![1]!.split('/')[0]!;
  const ping = exec(['ping', '-c', '2', '-W', '2', ip]);
  t.is(ping.status, 0, ping.stdout + ping.stderr);
});

/** GET http://<service>/ from inside a client container; '' when it fails. */
function wgetIn(c: { host: string; id: string }, url: string): string {
  const r = docker(lab, c.host, ['exec', c.id, 'timeout', '5', 'wget', '-qO-', url]);
  return r.status === 0 ? r.stdout.trim() : '';
}

test.serial(
  'health: an unhealthy task stops getting VIP and mesh traffic within one interval + 1 s; its healthy replacement gets it',
  async (t) => {
    t.timeout(180_000);
    const created = docker(lab, 'm1', [
      'service',
      'create',
      '--name',
      'hc',
      '--replicas',
      '2',
      '--network',
      'appnet',
      '--publish',
      '8081:80',
      '--stop-grace-period',
      '1s',
      '--health-cmd',
      'test -f /www/index.html',
      '--health-interval',
      '1s',
      '--health-retries',
      '1',
      '--health-timeout',
      '1s',
      'busybox:local',
      'sh',
      '-c',
      'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www',
    ]);
    t.is(created.status, 0, created.stderr);
    const [c] = containersOf(lab, 'client');
    const meshUrl = `http://${lab.host('m1').addr}:8081/`;
    // n requests through the VIP (from the client task) and n through the mesh (from outside the swarm).
    const answers = (n: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < n; i++) {
        seen.add(wgetIn(c!, 'http://hc/'));
        seen.add(fetchFrom(lab.host('cl'), meshUrl));
      }
      return seen;
    };
    await eventually(() => answers(8).size === 2 && !answers(1).has(''), 60_000, 'both hc tasks answer');
    const [sick] = containersOf(lab, 'hc');
    const sickName = ok(docker(lab, sick!.host, ['exec', sick!.id, 'hostname']), 'hostname');
    t.true(answers(10).has(sickName));

    // The health check fails from now on: after one interval + 1 s no request reaches that task.
    t.is(docker(lab, sick!.host, ['exec', sick!.id, 'rm', '/www/index.html']).status, 0);
    await new Promise((r) => setTimeout(r, 2_000));
    const after = answers(10);
    t.false(after.has(sickName), [...after].join(' '));
    t.false(after.has(''), 'every request answered by the healthy task');

    // Swarm replaces the unhealthy task; the replacement is healthy and shares the traffic again.
    await eventually(
      () => {
        const seen = answers(8);
        return seen.size === 2 && !seen.has('') && !seen.has(sickName);
      },
      60_000,
      'the replacement gets traffic',
    );
    t.is(docker(lab, 'm1', ['service', 'rm', 'hc']).status, 0);
  },
);

/** What a node's overlay left in the machine: named namespaces, host links, host nft tables. */
function overlayState(h: string): { netns: string[]; links: string[]; tables: string[] } {
  const ns = lab.host(h).netns;
  const nodeId = ok(docker(lab, h, ['info', '--format', '{{.Swarm.NodeID}}']), 'docker info').slice(0, 8);
  const netns = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.includes(`-${nodeId}-`));
  const links = execFileSync('ip', ['-n', ns, '-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .flatMap((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1] ?? []);
  const tables = execFileSync('nsenter', [`--net=/run/netns/${ns}`, '/usr/sbin/nft', 'list', 'tables'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  return { netns, links, tables };
}

/** Leftovers of the churn on a node: anything of its networks or tasks, or a gateway veth without an owner. */
function churnLeftovers(h: string, vnis: string[], taskIds: string[]): string[] {
  const { netns, links, tables } = overlayState(h);
  const left = [
    ...netns.filter(
      (n) => vnis.some((v) => n.endsWith(`-${v}`)) || taskIds.some((id) => n.endsWith(id.slice(0, 12))),
    ),
    ...links.filter((l) => vnis.some((v) => l === `tsvx${v}`)),
    ...tables.filter((t) => !/^table (ip|bridge) (tss_gw|tss_mesh|tss_hostports)$/.test(t)),
  ];
  // Each gateway-bridge veth belongs to a task namespace or the ingress sandbox of this node.
  const owners = netns.filter((n) => n.startsWith('tss-t-') || n.endsWith('-ingress-lb')).length;
  const veths = links.filter((l) => /^tsg[0-9a-f]{8}$/.test(l)).length;
  if (veths !== owners) left.push(`${veths} gateway veths for ${owners} namespaces`);
  return left;
}

test.serial(
  'churn: 20 services on 4 networks created and removed leave no namespace, device, table or address',
  async (t) => {
    t.timeout(300_000);
    const nets = ['ca', 'cb', 'cc', 'cd'].map((n) => `churn-${n}`);
    for (const n of nets)
      ok(docker(lab, 'm1', ['network', 'create', '-d', 'overlay', n]), `network create ${n}`);
    const names = Array.from({ length: 20 }, (_, i) => `churn${i}`);
    for (const [i, name] of names.entries())
      ok(
        docker(lab, 'm1', [
          'service',
          'create',
          '--detach',
          '--name',
          name,
          '--network',
          nets[i % nets.length]!,
          '--stop-grace-period',
          '1s',
          'busybox:local',
          'sleep',
          '600',
        ]),
        `service create ${name}`,
      );
    await eventually(
      () => names.every((n) => containersOf(lab, n).length === 1),
      120_000,
      '20 churn containers running',
    );
    // A network in use cannot go.
    const inUse = docker(lab, 'm1', ['network', 'rm', nets[0]!]);
    t.not(inUse.status, 0);
    t.regex(inUse.stderr, /in use/);
    const vnis = nets.map((n) =>
      ok(
        docker(lab, 'm1', [
          'network',
          'inspect',
          n,
          '--format',
          '{{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}',
        ]),
        'network inspect',
      ),
    );
    const taskIds = names.flatMap((n) =>
      ok(docker(lab, 'm1', ['service', 'ps', '-q', n]), 'service ps').split('\n'),
    );
    t.true(taskIds.length >= 20);
    ok(docker(lab, 'm1', ['service', 'rm', ...names]), 'service rm');
    const left = new Set(nets);
    await eventually(
      () => {
        for (const n of [...left]) {
          const r = docker(lab, 'm1', ['network', 'rm', n]);
          if (r.status === 0 || /not found/i.test(r.stderr)) left.delete(n);
        }
        return left.size === 0;
      },
      60_000,
      'networks removable once their tasks are gone',
    );
    await eventually(
      () => HOSTS.every((h) => churnLeftovers(h, vnis, taskIds).length === 0),
      60_000,
      'no churn leftovers on any node',
    ).catch(() => undefined); // the comparison below shows what is left
    for (const h of HOSTS) t.deepEqual(churnLeftovers(h, vnis, taskIds), [], h);
    t.false(
      ok(docker(lab, 'm1', ['network', 'ls', '--format', '{{.Name}}']), 'network ls').includes('churn'),
    );
  },
);

test.serial('a restarted worker daemon gives its running overlay tasks their networking back', async (t) => {
  t.timeout(180_000);
  const [c] = containersOf(lab, 'client');
  const webs = containersOf(lab, 'web');
  const host = ['w1', 'w2'].find((h) => h !== c!.host && webs.some((w) => w.host === h))!;
  t.truthy(host, JSON.stringify({ client: c, webs }));
  const names = new Set(webs.map((w) => w.id));
  await lab.stopDaemon(host);
  await lab.startDaemon(host);
  // The same containers (adopted, not replaced) answer through the VIP again, those on the restarted node too.
  const seen = new Set<string>();
  await eventually(
    () => {
      seen.add(wgetIn(c!, 'http://web/'));
      return [...names].every((n) => seen.has(n));
    },
    60_000,
    'every web container answering after the restart',
  ).catch(() => undefined);
  t.deepEqual(
    [...names].filter((n) => !seen.has(n)),
    [],
    [...seen].join(' '),
  );
  t.deepEqual(new Set(containersOf(lab, 'web').map((w) => w.id)), names);
});

/** An HTTP GET from a namespace that is not a swarm node (a client on the lab network); '' when it fails. */
function fetchFrom(client: LabHost, url: string): string {
  try {
    return execFileSync(
      'nsenter',
      [`--net=/run/netns/${client.netns}`, 'busybox', 'timeout', '5', 'busybox', 'wget', '-qO-', url],
      {
        encoding: 'utf8',
        timeout: 5_000,
      },
    ).trim();
  } catch {
    return '';
  }
}

test.serial(
  'routing mesh: a published port answers on every node, also after scale-down and a dead worker',
  async (t) => {
    t.timeout(300_000);
    const client = lab.host('cl');
    const up = docker(lab, 'm1', ['service', 'update', '--publish-add', '8080:80', 'web']);
    t.is(up.status, 0, up.stderr);
    const published = ok(
      docker(lab, 'm1', [
        'service',
        'inspect',
        'web',
        '--format',
        '{{(index .Endpoint.Ports 0).PublishedPort}}',
      ]),
      'service inspect',
    );
    t.is(published, '8080');
    await eventually(() => containersOf(lab, 'web').length === 3, 60_000, '3 updated web containers');

    // Every node answers, and the answers come from all three tasks.
    const seen = new Set<string>();
    for (const h of HOSTS) {
      const url = `http://${lab.host(h).addr}:8080/`;
      await eventually(() => fetchFrom(client, url) !== '', 30_000, `port 8080 on ${h}`);
      for (let i = 0; i < 6; i++) seen.add(fetchFrom(client, url));
    }
    seen.delete('');
    t.is(seen.size, 3, [...seen].join(' '));

    // One task left; a worker without it dies: every surviving node still answers.
    t.is(docker(lab, 'm1', ['service', 'scale', 'web=1', '--detach']).status, 0);
    await eventually(() => containersOf(lab, 'web').length === 1, 60_000, 'one web container');
    const [last] = containersOf(lab, 'web');
    const victim = ['w1', 'w2'].find((h) => h !== last!.host)!;
    await lab.stopDaemon(victim, 'SIGKILL');
    const survivors = HOSTS.filter((h) => h !== victim);
    for (const h of survivors) {
      const url = `http://${lab.host(h).addr}:8080/`;
      await eventually(() => fetchFrom(client, url) !== '', 30_000, `port 8080 on ${h} after the kill`);
      for (let i = 0; i < 5; i++) t.not(fetchFrom(client, url), '', `${h} request ${i}`);
    }
  },
);
