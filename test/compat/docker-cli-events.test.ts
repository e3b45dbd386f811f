// `docker events` (the stock CLI) against a tsswarm daemon: service create, update and remove in Docker's
// format with --filter, --since and --until (so the CLI exits); bad input is refused.
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import { freePort } from '../support/net.js';
import {
  cliCommand,
  dockerAgainst as docker,
  startDaemon,
  type DaemonProcess,
} from '../support/daemon-process.js';
import { uniqueName } from '../support/temp.js';

/** Waits for a `docker events` child started with spawn; the CLI must exit by itself. */
function eventsCli(d: DaemonProcess, args: string[]) {
  const child = spawn('docker', ['events', ...args], {
    env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: d.dir.path },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    }),
  );
  return { child, done, output: () => stdout };
}

test('docker events --filter type=service --since --until sees a service created, scaled, updated and removed', async (t) => {
  t.timeout(120_000);
  const d = await startDaemon();
  try {
    const init = docker(d, [
      'swarm',
      'init',
      '--listen-addr',
      `127.0.0.1:${await freePort()}`,
      '--advertise-addr',
      '127.0.0.1',
    ]);
    t.is(init.status, 0, init.stderr);
    const name = uniqueName();
    const since = Math.floor(Date.now() / 1000) - 1;
    // A live stream started before the changes, ending by itself at its --until.
    const liveUntil = Math.floor(Date.now() / 1000) + 8;
    const live = eventsCli(d, [
      '--filter',
      'type=service',
      '--filter',
      `service=${name}`,
      '--until',
      String(liveUntil),
    ]);

    const create = docker(d, [
      'service',
      'create',
      '--detach',
      '--no-resolve-image',
      '--name',
      name,
      '--replicas',
      '1',
      'busybox:local',
      'sleep',
      '300',
    ]);
    t.is(create.status, 0, create.stderr);
    const id = create.stdout.trim();
    const scale = docker(d, ['service', 'scale', '--detach', `${name}=2`]);
    t.is(scale.status, 0, scale.stderr);
    const update = docker(d, [
      'service',
      'update',
      '--detach',
      '--no-resolve-image',
      '--image',
      'busybox:other',
      name,
    ]);
    t.is(update.status, 0, update.stderr);
    const rm = docker(d, ['service', 'rm', name]);
    t.is(rm.status, 0, rm.stderr);
    const until = Math.ceil(Date.now() / 1000) + 1;
    await new Promise((r) => setTimeout(r, 1100));

    const past = docker(
      d,
      ['events', '--filter', 'type=service', '--since', String(since), '--until', String(until)],
      30_000,
    );
    t.is(past.status, 0, past.stderr);
    const lines = past.stdout
      .trim()
      .split('\n')
      .filter((l) => l.includes(id));
    t.log(past.stdout);
    const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d)';
    t.regex(lines[0]!, new RegExp(`^${stamp} service create ${id} \\(name=${name}\\)$`));
    t.true(
      lines.some((l) =>
        new RegExp(`service update ${id} \\(name=${name}, replicas.new=2, replicas.old=1\\)$`).test(l),
      ),
      'the scale',
    );
    t.true(
      lines.some((l) =>
        l.includes(`service update ${id} (image.new=busybox:other, image.old=busybox:local, name=${name}`),
      ),
      'the image update',
    );
    t.regex(lines.at(-1)!, new RegExp(`^${stamp} service remove ${id} \\(name=${name}\\)$`));

    // `tsswarm events` prints the same lines as `docker events`.
    const [cmd, ...pre] = cliCommand();
    const ours = spawnSync(
      cmd!,
      [
        ...pre,
        '-H',
        d.host,
        'events',
        '-f',
        'type=service',
        '--since',
        String(since),
        '--until',
        String(until),
      ],
      { encoding: 'utf8', timeout: 30_000 },
    );
    t.is(ours.status, 0, ours.stderr);
    t.is(ours.stdout, past.stdout);

    // Templates and JSON go through the daemon's messages as the CLI decodes them.
    const json = docker(d, [
      'events',
      '--filter',
      'event=create',
      '--filter',
      `service=${name}`,
      '--since',
      String(since),
      '--until',
      String(until),
      '--format',
      '{{json .}}',
    ]);
    t.is(json.status, 0, json.stderr);
    const msg = JSON.parse(json.stdout.trim().split('\n')[0]!);
    t.like(msg, {
      Type: 'service',
      Action: 'create',
      scope: 'swarm',
      Actor: { ID: id, Attributes: { name } },
    });
    const tmpl = docker(d, [
      'events',
      '--filter',
      `service=${id.slice(0, 8)}`,
      '--since',
      String(since),
      '--until',
      String(until),
      '--format',
      '{{.Type}}/{{.Action}}/{{.Actor.Attributes.name}}',
    ]);
    t.is(tmpl.stdout.trim().split('\n')[0], `service/create/${name}`);

    // The live stream saw the same changes while they happened, and ended at its --until.
    const ended = await live.done;
    t.is(ended.status, 0, ended.stderr);
    const liveLines = ended.stdout.trim().split('\n');
    t.regex(liveLines[0]!, new RegExp(`service create ${id} \\(name=${name}\\)$`));
    t.regex(liveLines.at(-1)!, new RegExp(`service remove ${id} \\(name=${name}\\)$`));

    // Bad input: the daemon's 400 message.
    const badFilter = docker(d, ['events', '--filter', 'colour=red', '--until', '1']);
    t.not(badFilter.status, 0);
    t.regex(badFilter.stderr, /Error response from daemon: invalid filter 'colour'/);
    const backwards = docker(d, ['events', '--since', '20', '--until', '10']);
    t.not(backwards.status, 0);
    t.regex(
      backwards.stderr,
      /Error response from daemon: `since` time \(20\) cannot be after `until` time \(10\)/,
    );
  } finally {
    await d.stop();
  }
});
