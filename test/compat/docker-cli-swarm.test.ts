import test from 'ava';
import { freePort } from '../support/net.js';
import { join } from 'node:path';
import { dockerAgainst, startDaemon } from '../support/daemon-process.js';
import { tempDir } from '../support/temp.js';

const docker = dockerAgainst;

test('docker swarm init, join-token, node ls/inspect/update, info; state survives a daemon restart; leave', async (t) => {
  t.timeout(120_000);
  const port = await freePort();
  // The data root lives outside the daemon helper's own directory, which is removed when it stops.
  const keep = tempDir();
  const dataRoot = join(keep.path, 'root');
  const socket = join(keep.path, 'api.sock');
  let d = await startDaemon({ dataRoot, socket });
  try {
    const init = docker(d, [
      'swarm',
      'init',
      '--listen-addr',
      `127.0.0.1:${port}`,
      '--advertise-addr',
      '127.0.0.1',
    ]);
    t.is(init.status, 0, init.stderr);
    const nodeId = /current node \(([0-9a-z]{25})\) is now a manager/.exec(init.stdout)?.[1];
    t.truthy(nodeId, init.stdout);
    t.regex(
      init.stdout,
      new RegExp(`docker swarm join --token SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25} 127\\.0\\.0\\.1:${port}`),
    );

    const token = docker(d, ['swarm', 'join-token', '-q', 'worker']);
    t.regex(token.stdout.trim(), /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    const mtoken = docker(d, ['swarm', 'join-token', '-q', 'manager']);
    t.not(mtoken.stdout.trim(), token.stdout.trim());

    // swarm update and token rotation go through POST /swarm/update with the version read.
    t.is(docker(d, ['swarm', 'update', '--task-history-limit', '3']).status, 0);
    t.is(
      docker(d, [
        'info',
        '--format',
        '{{.Swarm.Cluster.Spec.Orchestration.TaskHistoryRetentionLimit}}',
      ]).stdout.trim(),
      '3',
    );
    const rotated = docker(d, ['swarm', 'join-token', '-q', '--rotate', 'worker']).stdout.trim();
    t.regex(rotated, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    t.not(rotated, token.stdout.trim());

    const ls = docker(d, ['node', 'ls']);
    t.is(ls.status, 0, ls.stderr);
    const rows = ls.stdout.trim().split('\n');
    t.is(rows.length, 2);
    t.regex(rows[1]!, new RegExp(`^${nodeId} \\*\\s+\\S+\\s+Ready\\s+Active\\s+Leader\\s+0\\.1\\.0$`));

    const inspect = JSON.parse(docker(d, ['node', 'inspect', 'self']).stdout)[0];
    t.is(inspect.ID, nodeId);
    t.is(inspect.Spec.Role, 'manager');
    t.is(inspect.ManagerStatus.Addr, `127.0.0.1:${port}`);

    t.is(docker(d, ['node', 'update', '--availability', 'drain', nodeId!]).status, 0);
    t.is(docker(d, ['node', 'inspect', 'self', '--format', '{{.Spec.Availability}}']).stdout.trim(), 'drain');
    t.is(docker(d, ['node', 'update', '--label-add', 'zone=east', nodeId!]).status, 0);
    t.is(docker(d, ['node', 'inspect', 'self', '--format', '{{.Spec.Labels.zone}}']).stdout.trim(), 'east');

    const info = docker(d, ['info']);
    t.regex(info.stdout, /\n Swarm: active\n  NodeID: [0-9a-z]{25}\n  Is Manager: true\n/);
    t.regex(info.stdout, /  Managers: 1\n  Nodes: 1\n/);

    // Bad input.
    const twice = docker(d, ['swarm', 'init', '--listen-addr', `127.0.0.1:${port}`]);
    t.not(twice.status, 0);
    t.regex(
      twice.stderr,
      /Error response from daemon: This node is already part of a swarm\. Use "docker swarm leave" to leave this swarm and join another one\./,
    );
    const unknown = docker(d, ['node', 'inspect', 'nosuchnode']);
    t.not(unknown.status, 0);
    t.regex(unknown.stderr, /node nosuchnode not found/);

    // A restarted daemon takes its place again from its data root.
    await d.stop('SIGTERM');
    d = await startDaemon({ dataRoot, socket });
    let again = docker(d, ['node', 'ls', '-q']);
    for (let i = 0; i < 50 && again.status !== 0; i++) {
      await new Promise((r) => setTimeout(r, 200));
      again = docker(d, ['node', 'ls', '-q']);
    }
    t.is(again.stdout.trim(), nodeId!);
    t.is(
      docker(d, ['node', 'inspect', 'self', '--format', '{{.Spec.Labels.zone}}']).stdout.trim(),
      'east',
      'replicated state survived',
    );

    const leave = docker(d, ['swarm', 'leave']);
    t.not(leave.status, 0);
    t.regex(
      leave.stderr,
      /Removing the last manager erases all current state of the swarm\. Use `--force` to ignore this message\./,
    );
    t.is(docker(d, ['swarm', 'leave', '--force']).status, 0);
    t.regex(docker(d, ['info']).stdout, /\n Swarm: inactive\n/);
    const notManager = docker(d, ['node', 'ls']);
    t.regex(
      notManager.stderr,
      /This node is not a swarm manager\. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again\./,
    );
  } finally {
    await d.stop();
    keep.remove();
  }
});
