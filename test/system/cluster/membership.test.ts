// Raft membership through the product: follower writes, promotion, demotion, removal of a dead manager,
// quorum loss and recovery with --force-new-cluster.
import test from 'ava';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { apiGet, dockerOn as docker, eventually, leaderOf } from '../../support/lab-docker.js';

const NO_LEADER = /The swarm does not have a leader/;

async function swarmOf(lab: Lab, managers: string[], workers: string[]): Promise<void> {
  const hosts = [...managers, ...workers];
  for (const h of hosts) await lab.addHost(h);
  await Promise.all(hosts.map((h) => lab.startDaemon(h)));
  const first = managers[0]!;
  const addr = lab.host(first).addr;
  const init = docker(lab, first, [
    'swarm',
    'init',
    '--advertise-addr',
    addr,
    '--dispatcher-heartbeat',
    '1s',
  ]);
  if (init.status !== 0) throw new Error(init.stderr);
  const tokens = {
    manager: docker(lab, first, ['swarm', 'join-token', '-q', 'manager']).stdout.trim(),
    worker: docker(lab, first, ['swarm', 'join-token', '-q', 'worker']).stdout.trim(),
  };
  for (const h of hosts.slice(1)) {
    const token = managers.includes(h) ? tokens.manager : tokens.worker;
    const j = docker(lab, h, ['swarm', 'join', '--token', token, `${addr}:2377`]);
    if (j.status !== 0) throw new Error(`${h} join: ${j.stderr}`);
  }
  const ready = hosts.map((h) => `${h} Ready`).join(',');
  await eventually(
    () =>
      docker(lab, first, ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}'])
        .stdout.trim()
        .split('\n')
        .map((l) => l.trim())
        .sort()
        .join(',') === ready,
    30_000,
    `${ready} in node ls`,
  );
}

/** Hostnames of the Raft group as `docker info` on `host` reports it (Swarm.RemoteManagers). */
function raftGroup(lab: Lab, host: string): string {
  const out = docker(lab, host, ['info', '--format', '{{json .Swarm.RemoteManagers}}']).stdout.trim();
  const managers = (JSON.parse(out || 'null') ?? []) as { Addr: string }[];
  const byAddr = new Map(lab.state.hosts.map((h) => [h.addr, h.name]));
  return managers
    .map((m) => byAddr.get(m.Addr.replace(/:\d+$/, '')) ?? m.Addr)
    .sort()
    .join(',');
}

function managerStatus(lab: Lab, on: string): string {
  return docker(lab, on, ['node', 'ls', '--format', '{{.Hostname}}={{.ManagerStatus}}'])
    .stdout.trim()
    .split('\n')
    .map((l) => l.trim())
    .sort()
    .join(' ');
}

test.serial(
  'membership: a follower takes writes; promote and demote move nodes in and out of Raft; node rm --force of a dead manager shrinks the group',
  async (t) => {
    t.timeout(300_000);
    const lab = await Lab.create({ tsswarm: cliCommand() });
    try {
      await swarmOf(lab, ['m1', 'm2', 'm3'], ['w1']);
      await eventually(() => raftGroup(lab, 'm1') === 'm1,m2,m3', 20_000, 'three managers in Raft');
      const leader = (await eventually(() => leaderOf(lab, ['m1', 'm2', 'm3']), 20_000, 'a leader'))!;
      const follower = ['m1', 'm2', 'm3'].find((h) => h !== leader)!;

      // A follower forwards the write to the leader and reads it back at once (read-your-writes).
      const w = docker(lab, follower, ['node', 'update', '--label-add', 'via=follower', 'w1']);
      t.is(w.status, 0, w.stderr);
      t.is(
        docker(lab, follower, ['node', 'inspect', 'w1', '--format', '{{.Spec.Labels.via}}']).stdout.trim(),
        'follower',
      );
      // A linearizable read on another follower sees it too.
      const other = ['m1', 'm2', 'm3'].find((h) => h !== leader && h !== follower)!;
      const read = await apiGet(lab, other, '/nodes/w1?linearizable=1');
      t.is(read.status, 200, JSON.stringify(read.body));
      t.is((read.body as { Spec: { Labels: Record<string, string> } }).Spec.Labels.via, 'follower');

      // Promote w1: it renews its certificate as a manager, joins Raft and serves the control API.
      t.is(docker(lab, 'm1', ['node', 'promote', 'w1']).status, 0);
      await eventually(() => raftGroup(lab, 'm1') === 'm1,m2,m3,w1', 30_000, 'w1 in the Raft group');
      await eventually(
        () => docker(lab, 'w1', ['node', 'ls']).status === 0,
        30_000,
        'node ls on the promoted w1',
      );
      t.is(docker(lab, 'w1', ['info', '--format', '{{.Swarm.ControlAvailable}}']).stdout.trim(), 'true');
      await eventually(
        () => /w1=Reachable/.test(managerStatus(lab, 'm1')),
        20_000,
        'w1 Reachable in node ls',
      );

      // Demote m3: the leader takes it out of Raft first, then m3 becomes a worker.
      const d = docker(lab, 'm1', ['node', 'demote', 'm3']);
      t.is(d.status, 0, d.stderr);
      await eventually(() => raftGroup(lab, 'm1') === 'm1,m2,w1', 30_000, 'm3 out of the Raft group');
      await eventually(
        () => /This node is not a swarm manager/.test(docker(lab, 'm3', ['node', 'ls']).stderr),
        30_000,
        'm3 answering as a worker',
      );
      await eventually(
        () => /m3= /.test(`${managerStatus(lab, 'm1')} `),
        20_000,
        'm3 without manager status',
      );
      t.is(docker(lab, 'm3', ['info', '--format', '{{.Swarm.ControlAvailable}}']).stdout.trim(), 'false');

      // SIGKILL m2: it goes down and unreachable; node rm --force takes it out of Raft; writes still work.
      await lab.stopDaemon('m2', 'SIGKILL');
      const alive = ['m1', 'w1'];
      await eventually(
        () => {
          const l = leaderOf(lab, alive);
          return l && /m2=Unreachable/.test(managerStatus(lab, l)) ? l : undefined;
        },
        30_000,
        'm2 unreachable',
      );
      await eventually(
        () =>
          docker(lab, 'm1', ['node', 'inspect', 'm2', '--format', '{{.Status.State}}']).stdout.trim() ===
          'down',
        30_000,
        'm2 down',
      );
      const refused = docker(lab, 'm1', ['node', 'rm', 'm2']);
      t.not(refused.status, 0);
      t.regex(refused.stderr, /is a cluster manager and is a member of the raft cluster/);
      const rm = docker(lab, 'm1', ['node', 'rm', '--force', 'm2']);
      t.is(rm.status, 0, rm.stderr);
      await eventually(() => raftGroup(lab, 'm1') === 'm1,w1', 30_000, 'm2 out of the Raft group');
      await eventually(
        () => docker(lab, 'w1', ['node', 'update', '--label-add', 'after=rm', 'm1']).status === 0,
        20_000,
        'a write on the two-manager group',
      );
    } finally {
      await lab.down();
    }
  },
);

test.serial(
  'quorum loss: writes fail fast and reads answer; a restarted manager restores writes; --force-new-cluster recovers a survivor',
  async (t) => {
    t.timeout(300_000);
    const lab = await Lab.create({ tsswarm: cliCommand() });
    try {
      await swarmOf(lab, ['m1', 'm2', 'm3'], []);
      await eventually(() => raftGroup(lab, 'm1') === 'm1,m2,m3', 20_000, 'three managers in Raft');
      t.is(docker(lab, 'm1', ['node', 'update', '--label-add', 'kept=1', 'm1']).status, 0);

      await lab.stopDaemon('m2', 'SIGKILL');
      await lab.stopDaemon('m3', 'SIGKILL');
      // Once m1 notices (check-quorum steps a lone leader down), a write fails fast with Docker's message.
      const failure = await eventually(
        () => {
          const started = Date.now();
          const r = docker(lab, 'm1', ['node', 'update', '--label-add', 'unsure1=1', 'm1']);
          return r.status !== 0 ? { ms: Date.now() - started, stderr: r.stderr } : undefined;
        },
        30_000,
        'a write refused without quorum',
      );
      t.regex(failure.stderr, NO_LEADER);
      t.log(`write without quorum refused in ${failure.ms} ms`);
      t.true(failure.ms < 3000, `refused in ${failure.ms} ms`);
      const quick = Date.now();
      const again = docker(lab, 'm1', ['node', 'update', '--label-add', 'refused=1', 'm1']);
      t.regex(again.stderr, NO_LEADER);
      t.true(Date.now() - quick < 3000);
      // Reads still answer from the survivor's replica; a linearizable one says there is no leader.
      const ls = docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}}']);
      t.is(ls.status, 0, ls.stderr);
      t.deepEqual(ls.stdout.trim().split('\n').sort(), ['m1', 'm2', 'm3']);
      const strict = await apiGet(lab, 'm1', '/nodes?linearizable=1');
      t.is(strict.status, 503);
      t.regex((strict.body as { message: string }).message, NO_LEADER);

      // One manager back: quorum again, writes succeed.
      await lab.startDaemon('m2');
      await eventually(
        () => docker(lab, 'm1', ['node', 'update', '--label-add', 'back=1', 'm1']).status === 0,
        30_000,
        'writes after m2 restarted',
      );

      // Lose it again, then force a new cluster from m1's state.
      await lab.stopDaemon('m2', 'SIGKILL');
      await eventually(
        () => NO_LEADER.test(docker(lab, 'm1', ['node', 'update', '--label-add', 'unsure2=1', 'm1']).stderr),
        30_000,
        'quorum lost again',
      );
      const force = docker(lab, 'm1', [
        'swarm',
        'init',
        '--force-new-cluster',
        '--advertise-addr',
        lab.host('m1').addr,
      ]);
      t.is(force.status, 0, force.stderr);
      await eventually(
        () => docker(lab, 'm1', ['node', 'update', '--label-add', 'forced=1', 'm1']).status === 0,
        30_000,
        'writes on the forced cluster',
      );
      t.is(raftGroup(lab, 'm1'), 'm1');
      const labels = JSON.parse(
        docker(lab, 'm1', ['node', 'inspect', 'm1', '--format', '{{json .Spec.Labels}}']).stdout,
      );
      // A write refused after m1 stepped down never entered the log; one m1 appended while it still led has an
      // unknown outcome (Docker's too) and may commit later, so it is left out.
      const { unsure1: _a, unsure2: _b, ...sure } = labels as Record<string, string>;
      t.deepEqual(sure, { kept: '1', back: '1', forced: '1' }, 'the replicated state survives');
      await eventually(
        () => /m1=Leader m2=Unreachable m3=Unreachable/.test(managerStatus(lab, 'm1')),
        20_000,
        'the old managers shown unreachable',
      );
    } finally {
      await lab.down();
    }
  },
);
