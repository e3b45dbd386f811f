import test from 'ava';
import { readFileSync } from 'node:fs';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { dockerOn, eventually } from '../../support/lab-docker.js';

const docker = dockerOn;

test('a manager and two workers in network-namespace hosts: join with tokens, node ls, worker refusals, a killed worker goes down', async (t) => {
  t.timeout(180_000);
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    for (const h of ['m1', 'w1', 'w2', 'w3']) await lab.addHost(h);
    await Promise.all(['m1', 'w1', 'w2', 'w3'].map((h) => lab.startDaemon(h)));
    const m1 = lab.host('m1');
    const init = docker(lab, 'm1', [
      'swarm',
      'init',
      '--advertise-addr',
      m1.addr,
      '--dispatcher-heartbeat',
      '500ms',
    ]);
    t.is(init.status, 0, init.stderr);
    const token = docker(lab, 'm1', ['swarm', 'join-token', '-q', 'worker']).stdout.trim();
    for (const w of ['w1', 'w2']) {
      const j = docker(lab, w, ['swarm', 'join', '--token', token, `${m1.addr}:2377`]);
      t.is(j.status, 0, j.stderr);
      t.regex(j.stdout, /This node joined a swarm as a worker\./);
    }
    await eventually(
      () => (docker(lab, 'm1', ['node', 'ls']).stdout.match(/ Ready /g) ?? []).length === 3,
      20_000,
      '3 ready nodes',
    );
    const ls = docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}} {{.ManagerStatus}}'])
      .stdout.trim()
      .split('\n')
      .map((l) => l.trim())
      .sort();
    t.deepEqual(ls, ['m1 Ready Leader', 'w1 Ready', 'w2 Ready']);
    t.regex(
      docker(lab, 'w1', ['info']).stdout,
      /\n Swarm: active\n  NodeID: [0-9a-z]{25}\n  Is Manager: false\n/,
    );
    const refused = docker(lab, 'w1', ['node', 'ls']);
    t.not(refused.status, 0);
    t.regex(
      refused.stderr,
      /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state\. Please run this command on a manager node or promote the current node to a manager\./,
    );
    // A rotated-away token no longer joins.
    t.is(docker(lab, 'm1', ['swarm', 'join-token', '--rotate', 'worker']).status, 0);
    const stale = docker(lab, 'w3', ['swarm', 'join', '--token', token, `${m1.addr}:2377`]);
    t.not(stale.status, 0);
    t.regex(stale.stderr, /invalid join token/);
    t.regex(
      docker(lab, 'w3', ['info']).stdout,
      /\n Swarm: inactive\n/,
      'a failed join leaves the node outside the swarm',
    );
    // Garbage and unreachable managers fail with a clear error, in bounded time.
    const fresh = docker(lab, 'm1', ['swarm', 'join-token', '-q', 'worker']).stdout.trim();
    const garbage = docker(lab, 'w3', ['swarm', 'join', '--token', fresh, 'not-an-address:::']);
    t.not(garbage.status, 0);
    t.regex(garbage.stderr, /invalid remote address/);
    const nowhere = m1.addr.replace(/\.\d+$/, '.250');
    const started = Date.now();
    const unreachable = docker(lab, 'w3', ['swarm', 'join', '--token', fresh, `${nowhere}:2377`]);
    t.not(unreachable.status, 0);
    t.log(
      `join to an unreachable manager failed after ${Date.now() - started} ms: ${unreachable.stderr.trim()}`,
    );
    t.regex(unreachable.stderr, /could not reach a manager at [\d.]+:2377: connect EHOSTUNREACH/);
    t.true(Date.now() - started < 20_000);
    // SIGKILL a worker's daemon: after 3 missed heartbeat periods it is down.
    await lab.stopDaemon('w2', 'SIGKILL');
    const killedAt = Date.now();
    await eventually(
      () => /w2 Down/.test(docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}']).stdout),
      10_000,
      'w2 down',
    );
    t.log(`w2 marked down ${Date.now() - killedAt} ms after SIGKILL (heartbeat 500 ms)`);
    // Restarted from its data root it comes back without a token.
    await lab.startDaemon('w2');
    await eventually(
      () =>
        /w2 Ready/.test(docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}']).stdout),
      15_000,
      'w2 ready again',
    );
    // A removed node's certificate is refused: restarted, it does not come back.
    await lab.stopDaemon('w2', 'SIGKILL');
    await eventually(
      () => /w2 Down/.test(docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}']).stdout),
      10_000,
      'w2 down again',
    );
    const rm = docker(lab, 'm1', ['node', 'rm', 'w2']);
    t.is(rm.status, 0, rm.stderr);
    await lab.startDaemon('w2');
    await new Promise((r) => setTimeout(r, 4000));
    t.notRegex(docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}}']).stdout, /w2/);
    t.regex(readFileSync(lab.host('w2').logFile, 'utf8'), /removed from the swarm/);
    t.is(docker(lab, 'w2', ['info', '--format', '{{.Swarm.LocalNodeState}}']).stdout.trim(), 'error');
    t.regex(docker(lab, 'w2', ['info', '--format', '{{.Swarm.Error}}']).stdout, /was removed from the swarm/);
  } finally {
    await lab.down();
  }
});
