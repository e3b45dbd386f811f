// Services end to end on real containers: the stock docker CLI creates, scales and removes a replicated
// service on a lab cluster (1 manager + 2 workers); tasks run as runc containers on the nodes.
import test from 'ava';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { startLabSwarm } from '../../support/lab-swarm.js';
import { dockerOn as docker, eventually, serviceContainers } from '../../support/lab-docker.js';

const HOSTS = ['m1', 'w1', 'w2'];

test('docker service create --replicas 3 converges on real containers; scale, update, rollback; rm removes the containers', async (t) => {
  t.timeout(300_000);
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    await startLabSwarm(lab, { managers: ['m1'], workers: ['w1', 'w2'] });

    const started = Date.now();
    const create = docker(lab, 'm1', [
      'service',
      'create',
      '--name',
      'web',
      '--replicas',
      '3',
      // sleep as PID 1 ignores SIGTERM: each stop-first step waits out the grace period before the new task starts.
      '--stop-grace-period',
      '1s',
      'busybox:local',
      'sleep',
      '300',
    ]);
    t.is(create.status, 0, create.stderr);
    t.regex(create.stdout + create.stderr, /verify: Service \S+ converged/);
    t.log(`service create --replicas 3 converged in ${Date.now() - started} ms (CLI included)`);
    t.regex(docker(lab, 'm1', ['service', 'ls', '--format', '{{.Name}} {{.Replicas}}']).stdout, /web 3\/3/);
    const ps = docker(lab, 'm1', [
      'service',
      'ps',
      'web',
      '--format',
      '{{.Name}} {{.Node}} {{.CurrentState}}',
    ]);
    t.is(
      ps.stdout
        .trim()
        .split('\n')
        .filter((l) => / Running /.test(l)).length,
      3,
      ps.stdout,
    );
    await eventually(
      () => HOSTS.reduce((n, h) => n + serviceContainers(lab, h, 'web').length, 0) === 3,
      20_000,
      '3 containers across the nodes',
    );

    const scale = docker(lab, 'm1', ['service', 'scale', 'web=5']);
    t.is(scale.status, 0, scale.stderr);
    await eventually(
      () => HOSTS.reduce((n, h) => n + serviceContainers(lab, h, 'web').length, 0) === 5,
      30_000,
      '5 containers after scale',
    );
    t.regex(docker(lab, 'm1', ['service', 'ls', '--format', '{{.Name}} {{.Replicas}}']).stdout, /web 5\/5/);

    // A rolling update (all at once, short monitor) and a rollback, both followed to convergence by the CLI.
    const update = docker(lab, 'm1', [
      'service',
      'update',
      '--env-add',
      'VERSION=2',
      '--update-parallelism',
      '0',
      '--update-monitor',
      '1s',
      '--rollback-parallelism',
      '0',
      '--rollback-monitor',
      '1s',
      'web',
    ]);
    t.is(update.status, 0, update.stderr);
    t.regex(update.stdout + update.stderr, /verify: Service \S+ converged/);
    const env = () =>
      docker(lab, 'm1', [
        'service',
        'inspect',
        'web',
        '--format',
        '{{json .Spec.TaskTemplate.ContainerSpec.Env}}',
      ]).stdout.trim();
    t.is(env(), '["VERSION=2"]');
    t.is(
      docker(lab, 'm1', ['service', 'inspect', 'web', '--format', '{{.UpdateStatus.State}}']).stdout.trim(),
      'completed',
    );
    const rollback = docker(lab, 'm1', ['service', 'rollback', 'web']);
    t.is(rollback.status, 0, rollback.stderr);
    t.regex(rollback.stdout + rollback.stderr, /rollback: rollback completed|Service \S+ converged/);
    t.is(env(), 'null');
    await eventually(
      () => HOSTS.reduce((n, h) => n + serviceContainers(lab, h, 'web').length, 0) === 5,
      30_000,
      '5 containers after the rollback',
    );

    t.is(docker(lab, 'm1', ['service', 'rm', 'web']).status, 0);
    await eventually(
      () => HOSTS.every((h) => serviceContainers(lab, h, 'web').length === 0),
      40_000,
      'containers removed after service rm',
    );
    t.is(docker(lab, 'm1', ['service', 'ps', '-q', 'web']).status, 1);
  } finally {
    await lab.down();
  }
});
