// Node failure and availability on real containers (issue #9, test 2): a worker whose daemon and containers
// are SIGKILLed has its tasks rescheduled on the others within 3 heartbeat periods + 2 s; a drained node's
// containers move away; a paused node keeps what it runs and gets nothing new.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Task } from '../../../api/index.js';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { startLabSwarm } from '../../support/lab-swarm.js';
import { apiGet, dockerOn as docker, eventually, serviceContainers } from '../../support/lab-docker.js';

const HEARTBEAT_S = 1;

/** The service's tasks meant to run and running, by node hostname. */
async function runningByNode(lab: Lab, ids: Map<string, string>): Promise<Record<string, number>> {
  const { body } = await apiGet(lab, 'm1', '/tasks');
  const out: Record<string, number> = {};
  for (const t of body as Task[]) {
    if (t.DesiredState !== 'running' || t.Status.State !== 'running') continue;
    const host = ids.get(t.NodeID ?? '') ?? '?';
    out[host] = (out[host] ?? 0) + 1;
  }
  return out;
}

const total = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);

test('a SIGKILLed worker’s tasks are rescheduled within 3 heartbeats + 2 s; drain moves containers; pause takes nothing new', async (t) => {
  t.timeout(240_000);
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    await startLabSwarm(lab, { managers: ['m1'], workers: ['w1', 'w2'], heartbeat: `${HEARTBEAT_S}s` });
    const ids = new Map(
      docker(lab, 'm1', ['node', 'ls', '--format', '{{.ID}} {{.Hostname}}'])
        .stdout.trim()
        .split('\n')
        .map((l) => l.split(' ') as [string, string]),
    );
    t.is(ids.size, 3);

    const create = docker(lab, 'm1', [
      'service',
      'create',
      '--detach',
      '--name',
      'web',
      '--replicas',
      '6',
      '--stop-grace-period',
      '1s',
      'busybox:local',
      'sleep',
      '300',
    ]);
    t.is(create.status, 0, create.stderr);
    const spread = await eventually(
      async () => {
        const m = await runningByNode(lab, ids);
        return total(m) === 6 && m;
      },
      60_000,
      '6 running tasks',
    );
    t.true((spread.w2 ?? 0) > 0, `w2 runs some tasks: ${JSON.stringify(spread)}`);

    // w2 dies with its containers: its daemon is SIGKILLed and runc removes its containers.
    const killed = Date.now();
    await lab.stopDaemon('w2', 'SIGKILL');
    const runcRoot = join(lab.host('w2').dataRoot, 'runc');
    if (existsSync(runcRoot))
      for (const id of execFileSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean))
        execFileSync('runc', ['--root', runcRoot, 'delete', '--force', id]);
    await eventually(
      async () => {
        const m = await runningByNode(lab, ids);
        return total(m) === 6 && !m.w2;
      },
      30_000,
      'the tasks of w2 running elsewhere',
    );
    const { body } = await apiGet(lab, 'm1', '/tasks');
    const replacements = (body as Task[]).filter(
      (x) => x.DesiredState === 'running' && Date.parse(x.CreatedAt) >= killed - 1000,
    );
    t.true(replacements.length > 0);
    // Times by the manager's own records (the polling above adds its own lag): the node marked down, the
    // replacements created (rescheduled: Swarm's bound is 3 heartbeat periods + 2 s), and running.
    const downAt = Date.parse(
      ((await apiGet(lab, 'm1', '/nodes/w2')).body as { UpdatedAt: string }).UpdatedAt,
    );
    const rescheduled = Math.max(...replacements.map((x) => Date.parse(x.CreatedAt))) - killed;
    const ran = Math.max(...replacements.map((x) => Date.parse(x.Status.Timestamp))) - killed;
    t.log(
      `after the SIGKILL: w2 down at ${downAt - killed} ms, its ${replacements.length} tasks rescheduled by ${rescheduled} ms, running elsewhere by ${ran} ms`,
    );
    t.true(rescheduled <= 3 * HEARTBEAT_S * 1000 + 2000, `rescheduled after ${rescheduled} ms`);
    t.regex(docker(lab, 'm1', ['node', 'ls', '--format', '{{.Hostname}} {{.Status}}']).stdout, /w2 Down/);

    // Drain w1: its containers stop and its tasks move to m1, the one node left.
    t.is(docker(lab, 'm1', ['node', 'update', '--availability', 'drain', 'w1']).status, 0);
    await eventually(
      async () => {
        const m = await runningByNode(lab, ids);
        return total(m) === 6 && m.m1 === 6 && serviceContainers(lab, 'w1', 'web').length === 0;
      },
      60_000,
      'every task on m1 and no container left on the drained w1',
    );

    // Pause m1 and reactivate w1: m1 keeps its 6, the 2 new replicas go to w1.
    t.is(docker(lab, 'm1', ['node', 'update', '--availability', 'active', 'w1']).status, 0);
    t.is(docker(lab, 'm1', ['node', 'update', '--availability', 'pause', 'm1']).status, 0);
    t.is(docker(lab, 'm1', ['service', 'scale', '--detach', 'web=8']).status, 0);
    const after = await eventually(
      async () => {
        const m = await runningByNode(lab, ids);
        return total(m) === 8 && m;
      },
      60_000,
      '8 running tasks',
    );
    t.deepEqual(after, { m1: 6, w1: 2 }, 'the paused m1 got no new task');
    t.is(serviceContainers(lab, 'w1', 'web').length, 2);
  } finally {
    await lab.down();
  }
});
