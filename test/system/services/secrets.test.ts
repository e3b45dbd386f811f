// Secrets and configs end to end (issue #9, point 6): the stock docker CLI creates a secret and a config and a
// service using them on a lab cluster (1 manager + 2 workers). The content shows only in that service's
// containers (/run/secrets/<name> and the config target, on a tmpfs of the node running them), never in the
// API's answers, and not at all on a node with no such task; removing the service takes the mounts away.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Lab } from '../../../deploy/lab/index.js';
import { cliCommand } from '../../support/daemon-process.js';
import { startLabSwarm } from '../../support/lab-swarm.js';
import { apiGet, dockerOn as docker, eventually, serviceContainers } from '../../support/lab-docker.js';

/** tmpfs mounts below a host's data root (as the root mount namespace, where the daemons mount, sees them). */
function tmpfsMountsUnder(dataRoot: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' '))
    .filter((f) => f[4]?.startsWith(dataRoot + '/') && f[f.indexOf('-') + 1] === 'tmpfs')
    .map((f) => f[4]!);
}

/** Files below `dir` holding `text` (mounts included: a tmpfs of the node's containers shows here too). */
function filesHolding(dir: string, text: string): string[] {
  const r = spawnSync('grep', ['-rlF', '--', text, dir], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

test('a secret and a config reach only the containers of the service using them, on a tmpfs, never through the API', async (t) => {
  t.timeout(150_000);
  const lab = await Lab.create({ tsswarm: cliCommand() });
  try {
    const tag = randomBytes(4).toString('hex');
    const secretName = `tss-${tag}-secret`;
    const configName = `tss-${tag}-config`;
    const secretText = `s3cr3t-${randomBytes(12).toString('hex')}`;
    const configText = `listen=${randomBytes(12).toString('hex')}\n`;

    await startLabSwarm(lab, { managers: ['m1'], workers: ['w1', 'w2'], busyboxOn: ['w1', 'w2'] });

    const secretFile = join(lab.state.dir, 'secret.txt');
    const configFile = join(lab.state.dir, 'config.txt');
    writeFileSync(secretFile, secretText);
    writeFileSync(configFile, configText);
    const sc = docker(lab, 'm1', ['secret', 'create', secretName, secretFile]);
    t.is(sc.status, 0, sc.stderr);
    const cc = docker(lab, 'm1', ['config', 'create', configName, configFile]);
    t.is(cc.status, 0, cc.stderr);

    const create = (args: string[]) => {
      const r = docker(lab, 'm1', ['service', 'create', '--detach', ...args]);
      t.is(r.status, 0, r.stderr);
    };
    create([
      '--name',
      'vault',
      '--constraint',
      'node.hostname==w1',
      '--secret',
      secretName,
      '--secret',
      `source=${secretName},target=db.pw,uid=1000,gid=100,mode=0400`,
      '--config',
      `source=${configName},target=/etc/x.conf`,
      'busybox:local',
      'sleep',
      '300',
    ]);
    create(['--name', 'other', '--constraint', 'node.hostname==w2', 'busybox:local', 'sleep', '300']);
    const vault = await eventually(
      () => serviceContainers(lab, 'w1', 'vault')[0],
      40_000,
      'the vault container on w1',
    );
    const other = await eventually(
      () => serviceContainers(lab, 'w2', 'other')[0],
      40_000,
      'the other container on w2',
    );
    await eventually(
      () => docker(lab, 'w1', ['exec', vault, 'true']).status === 0,
      20_000,
      'the vault container to run',
    );

    // In the service's container: the content, with the owners and modes asked for, read-only.
    const exec = (host: string, id: string, cmd: string[]) => docker(lab, host, ['exec', id, ...cmd]);
    const cat = exec('w1', vault, ['cat', `/run/secrets/${secretName}`]);
    t.is(cat.status, 0, cat.stderr);
    t.is(cat.stdout, secretText);
    t.is(exec('w1', vault, ['cat', '/run/secrets/db.pw']).stdout, secretText);
    t.is(exec('w1', vault, ['cat', '/etc/x.conf']).stdout, configText);
    t.is(
      exec('w1', vault, [
        'stat',
        '-c',
        '%a %u %g',
        `/run/secrets/${secretName}`,
        '/run/secrets/db.pw',
        '/etc/x.conf',
      ]).stdout,
      '444 0 0\n400 1000 100\n444 0 0\n',
    );
    t.not(exec('w1', vault, ['sh', '-c', `echo x > /run/secrets/${secretName}`]).status, 0, 'read-only');
    t.regex(exec('w1', vault, ['cat', '/proc/mounts']).stdout, /\/run\/secrets\/\S+ tmpfs ro,/);

    // On the worker: one tmpfs holds it, under the container's directory; nothing else in the data root does.
    const w1 = lab.host('w1').dataRoot;
    const w1Mounts = tmpfsMountsUnder(w1);
    t.true(
      w1Mounts.some((m) => m.startsWith(join(w1, 'containers') + '/')),
      w1Mounts.join('\n'),
    );
    const holders = filesHolding(w1, secretText);
    t.true(holders.length > 0);
    for (const f of holders)
      t.true(
        w1Mounts.some((m) => f.startsWith(m + '/')),
        `${f} holds the secret outside a tmpfs`,
      );

    // Another service's container, and the node without such a task, have none of it.
    t.not(exec('w2', other, ['cat', `/run/secrets/${secretName}`]).status, 0);
    t.not(exec('w2', other, ['cat', '/etc/x.conf']).status, 0);
    const w2 = lab.host('w2').dataRoot;
    t.deepEqual(tmpfsMountsUnder(w2), []);
    t.deepEqual(filesHolding(w2, secretText), []);
    t.deepEqual(filesHolding(w2, configText.trim()), []);

    // The API never shows the secret's data.
    const b64 = Buffer.from(secretText).toString('base64');
    const leaks = (text: string) => text.includes(secretText) || text.includes(b64);
    const inspect = docker(lab, 'm1', ['secret', 'inspect', secretName]);
    t.is(inspect.status, 0, inspect.stderr);
    t.false(leaks(inspect.stdout), inspect.stdout);
    t.false(leaks(docker(lab, 'm1', ['secret', 'ls']).stdout));
    t.false(leaks(docker(lab, 'm1', ['service', 'inspect', 'vault']).stdout));
    for (const path of ['/secrets', `/secrets/${secretName}`, '/services', '/tasks']) {
      const r = await apiGet(lab, 'm1', path);
      t.is(r.status, 200, path);
      t.false(leaks(JSON.stringify(r.body)), path);
    }

    // A restarted worker daemon adopts the running container: its files stay, and the agent is sent the
    // secret again with its full set (a task created now would get it too).
    await lab.stopDaemon('w1');
    await lab.startDaemon('w1');
    await eventually(
      () => exec('w1', vault, ['cat', `/run/secrets/${secretName}`]).stdout === secretText,
      20_000,
      'the adopted container to still read the secret',
    );
    t.is(docker(lab, 'm1', ['service', 'scale', '--detach', 'vault=2']).status, 0);
    await eventually(
      () => {
        const ids = docker(lab, 'w1', [
          'ps',
          '--filter',
          'label=com.docker.swarm.service.name=vault',
          '--format',
          '{{.ID}}',
        ]).stdout.split('\n');
        const fresh = ids.find((id) => id && id !== vault);
        return !!fresh && exec('w1', fresh, ['cat', '/etc/x.conf']).stdout === configText;
      },
      40_000,
      'a second vault task started after the restart to have the config',
    );

    // Removing the service removes its containers and, with them, the tmpfs.
    t.is(docker(lab, 'm1', ['service', 'rm', 'vault', 'other']).status, 0);
    // `docker ps` drops a container when it stops; its tmpfs goes when the agent removes it, a moment later.
    await eventually(
      () => serviceContainers(lab, 'w1', 'vault').length === 0,
      40_000,
      'the vault containers to stop',
    );
    await eventually(() => tmpfsMountsUnder(w1).length === 0, 40_000, 'the containers and their tmpfs to go');
    t.deepEqual(filesHolding(w1, secretText), []);
    t.is(docker(lab, 'm1', ['secret', 'rm', secretName]).status, 0);
  } finally {
    await lab.down();
  }
});
