import test from 'ava';
import { spawnSync } from 'node:child_process';
import { freePort } from '../support/net.js';
import { cliCommand, startDaemon } from '../support/daemon-process.js';

test('tsswarm swarm and node commands drive a one-manager swarm', async (t) => {
  t.timeout(120_000);
  const d = await startDaemon();
  const cli = (args: string[]) => {
    const [cmd, ...pre] = cliCommand();
    return spawnSync(cmd!, [...pre, '-H', d.host, ...args], { encoding: 'utf8', timeout: 30_000 });
  };
  try {
    const port = await freePort();
    const init = cli([
      'swarm',
      'init',
      '--listen-addr',
      `127.0.0.1:${port}`,
      '--advertise-addr',
      '127.0.0.1',
      '--dispatcher-heartbeat',
      '1s',
      '--task-history-limit',
      '2',
    ]);
    t.is(init.status, 0, init.stderr);
    t.regex(init.stdout, /^Swarm initialized: current node \([0-9a-z]{25}\) is now a manager\./);
    t.regex(
      init.stdout,
      new RegExp(`tsswarm swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} 127\\.0\\.0\\.1:${port}`),
    );
    const token = cli(['swarm', 'join-token', '-q', 'worker']).stdout.trim();
    t.regex(token, /^SWMTKN-1-/);
    t.not(cli(['swarm', 'join-token', '-q', '--rotate', 'worker']).stdout.trim(), token);
    const ls = cli(['node', 'ls']);
    t.regex(
      ls.stdout,
      /^ID +HOSTNAME +STATUS +AVAILABILITY +MANAGER STATUS +ENGINE VERSION\n[0-9a-z]{25} \* +\S+ +Ready +Active +Leader +0\.1\.0\n$/,
    );
    t.is(cli(['node', 'update', '--label-add', 'zone=east', '--availability', 'pause', 'self']).status, 0);
    t.is(
      cli(['node', 'inspect', 'self', '--format', '{{.Spec.Labels.zone}} {{.Spec.Availability}}']).stdout,
      'east pause\n',
    );
    t.regex(
      cli(['node', 'inspect', '--pretty', 'self']).stdout,
      /Manager Status:\n Address:\t\t127\.0\.0\.1:\d+\n Raft Status:\t\tReachable\n Leader:\t\tYes/,
    );
    const demote = cli(['node', 'demote', 'self']);
    t.not(demote.status, 0);
    t.regex(demote.stderr, /attempting to demote the last manager of the swarm/);
    const bad = cli(['node', 'update', '--availability', 'sleepy', 'self']);
    t.regex(bad.stderr, /invalid availability "sleepy"/);
    t.is(cli(['swarm', 'update', '--task-history-limit', '7']).status, 0);
    t.regex(
      cli(['info', '--format', '{{json .Swarm.Cluster.Spec.Orchestration}}']).stdout,
      /"TaskHistoryRetentionLimit":7/,
    );
    t.not(cli(['swarm', 'leave']).status, 0);
    t.is(cli(['swarm', 'leave', '--force']).stdout, 'Node left the swarm.\n');
    t.regex(cli(['node', 'ls']).stderr, /This node is not a swarm manager/);
  } finally {
    await d.stop();
  }
});
