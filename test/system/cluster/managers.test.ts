import test from 'ava';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { dockerOn, eventually, leaderOf } from '../../support/lab-docker.js';

const docker = dockerOn;

const MANAGERS = ['m1', 'm2', 'm3'];

test('three managers: managers join through the leader, every manager lists the same nodes, and a SIGKILLed leader is replaced', async (t) => {
  t.timeout(240_000);
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    for (const h of [...MANAGERS, 'w1']) await lab.addHost(h);
    await Promise.all([...MANAGERS, 'w1'].map((h) => lab.startDaemon(h)));
    const m1 = lab.host('m1').addr;
    t.is(docker(lab, 'm1', ['swarm', 'init', '--advertise-addr', m1]).status, 0);
    const mtoken = docker(lab, 'm1', ['swarm', 'join-token', '-q', 'manager']).stdout.trim();
    const wtoken = docker(lab, 'm1', ['swarm', 'join-token', '-q', 'worker']).stdout.trim();
    for (const m of ['m2', 'm3']) {
      const j = docker(lab, m, ['swarm', 'join', '--token', mtoken, `${m1}:2377`]);
      t.is(j.status, 0, j.stderr);
      t.regex(j.stdout, /This node joined a swarm as a manager\./);
    }
    t.is(docker(lab, 'w1', ['swarm', 'join', '--token', wtoken, `${m1}:2377`]).status, 0);
    // Every manager answers node ls from its own replica, with the same 4 nodes and one leader.
    for (const m of MANAGERS) {
      await eventually(
        () => {
          const rows = docker(lab, m, [
            'node',
            'ls',
            '--format',
            '{{.Hostname}} {{.Status}} {{.ManagerStatus}}',
          ])
            .stdout.trim()
            .split('\n')
            .map((l) => l.trim())
            .sort();
          return rows.join('|') === 'm1 Ready Leader|m2 Ready Reachable|m3 Ready Reachable|w1 Ready'
            ? rows
            : undefined;
        },
        20_000,
        `node ls on ${m}`,
      );
    }
    t.regex(
      docker(lab, 'w1', ['node', 'ls']).stderr,
      /This node is not a swarm manager\. Worker nodes can't be used/,
    );
    // Failover: SIGKILL the leader; a new leader takes writes within a few seconds.
    const nodeId = docker(lab, 'w1', ['info', '--format', '{{.Swarm.NodeID}}']).stdout.trim();
    t.is(docker(lab, 'm1', ['node', 'update', '--label-add', 'before=1', nodeId]).status, 0);
    await lab.stopDaemon('m1', 'SIGKILL');
    const killed = Date.now();
    const alive = ['m2', 'm3'];
    const leader = await eventually(
      () => {
        const l = leaderOf(lab, alive);
        return l && docker(lab, l, ['node', 'update', '--label-add', 'after=1', nodeId]).status === 0
          ? l
          : undefined;
      },
      15_000,
      'a new leader accepting writes',
    );
    t.log(`first write on the new leader (${leader}) ${Date.now() - killed} ms after SIGKILL of the old one`);
    const labels = JSON.parse(
      docker(lab, leader, ['node', 'inspect', nodeId, '--format', '{{json .Spec.Labels}}']).stdout,
    );
    t.deepEqual(labels, { before: '1', after: '1' }, 'no write acknowledged before the kill was lost');
    // The killed manager restarts from its data root and catches up.
    await lab.startDaemon('m1');
    await eventually(
      () =>
        JSON.parse(
          docker(lab, 'm1', ['node', 'inspect', nodeId, '--format', '{{json .Spec.Labels}}']).stdout ||
            'null',
        )?.after === '1'
          ? true
          : undefined,
      20_000,
      'm1 catching up',
    );
  } finally {
    await lab.down();
  }
});
