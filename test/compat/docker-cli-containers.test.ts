// The stock docker CLI against our socket: docker run -d, ps, logs, exec, stop, inspect, rm (and rm -f), and
// its error output for unknown containers.
import test from 'ava';
import { join } from 'node:path';
import { importBusyboxIntoDaemon } from '../support/busybox-image.js';
import { dockerAgainst, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { tempDir, uniqueName } from '../support/temp.js';
import { cleanupDataRoot } from '../system/runtime/fixture.js';

const root = tempDir();
const dataRoot = join(root.path, 'data');
let d: DaemonProcess;
const names: string[] = [];
test.before(async () => {
  d = await startDaemon({ dataRoot });
  await importBusyboxIntoDaemon(d.socket);
});
test.after.always(async () => {
  if (d) {
    for (const n of names) docker(['rm', '-f', n]);
    await d.stop();
  }
  await cleanupDataRoot(dataRoot);
  root.remove();
});

const docker = (args: string[]) => dockerAgainst(d, args, 60_000);

test.serial('docker run -d, ps, logs, exec, stop, ps -a, inspect, rm', (t) => {
  const name = uniqueName();
  names.push(name);
  const run = docker([
    'run',
    '-d',
    '--name',
    name,
    '-e',
    'WHO=docker',
    '--label',
    'tss.compat=1',
    'busybox:local',
    'sh',
    '-c',
    'trap "echo stopping; exit 0" TERM; echo hello $WHO; echo warn >&2; while true; do sleep 0.1; done',
  ]);
  t.is(run.status, 0, run.stderr);
  const id = run.stdout.trim();
  t.regex(id, /^[a-f0-9]{64}$/);

  const ps = docker(['ps', '--format', '{{.ID}} {{.Names}} {{.Image}} {{.Status}}']);
  t.is(ps.status, 0, ps.stderr);
  t.regex(ps.stdout, new RegExp(`^${id.slice(0, 12)} ${name} busybox:local Up `, 'm'));
  t.regex(docker(['ps', '--filter', 'label=tss.compat=1', '-q']).stdout, new RegExp(id.slice(0, 12)));

  let logs = docker(['logs', name]);
  for (let i = 0; i < 50 && !logs.stdout.includes('hello'); i++) logs = docker(['logs', name]);
  t.is(logs.status, 0, logs.stderr);
  t.is(logs.stdout, 'hello docker\n');
  t.is(logs.stderr, 'warn\n');

  const ex = docker(['exec', name, 'sh', '-c', 'echo from exec $WHO; exit 3']);
  t.is(ex.status, 3);
  t.is(ex.stdout, 'from exec docker\n');

  const stop = docker(['stop', name]);
  t.is(stop.status, 0, stop.stderr);
  t.is(stop.stdout.trim(), name);
  t.regex(docker(['logs', name]).stdout, /stopping/);
  const psa = docker(['ps', '-a', '--filter', `name=${name}`, '--format', '{{.Status}}']);
  t.regex(psa.stdout, /^Exited \(0\) /);
  t.is(
    docker(['inspect', '--format', '{{.State.Status}} {{.State.ExitCode}}', name]).stdout.trim(),
    'exited 0',
  );

  const rm = docker(['rm', name]);
  t.is(rm.status, 0, rm.stderr);
  t.is(rm.stdout.trim(), name);
  t.is(docker(['ps', '-a', '-q', '--filter', `name=${name}`]).stdout.trim(), '');
});

test.serial('docker rm refuses a running container, rm -f removes it; unknown containers are errors', (t) => {
  const name = uniqueName();
  names.push(name);
  t.is(docker(['run', '-d', '--name', name, 'busybox:local', 'sleep', '60']).status, 0);
  const refused = docker(['rm', name]);
  t.not(refused.status, 0);
  t.regex(refused.stderr, /container is running: stop the container before removing or force remove/);
  const forced = docker(['rm', '-f', name]);
  t.is(forced.status, 0, forced.stderr);
  const missing = docker(['logs', 'tss-nope']);
  t.not(missing.status, 0);
  t.regex(missing.stderr, /No such container: tss-nope/);
  const stop = docker(['stop', 'tss-nope']);
  t.regex(stop.stderr, /No such container: tss-nope/);
  const dup = docker(['run', '-d', '--name', name, 'busybox:local', 'true']);
  t.is(dup.status, 0, 'the name is free again after rm -f');
  const again = docker(['run', '-d', '--name', name, 'busybox:local', 'true']);
  t.not(again.status, 0);
  t.regex(again.stderr, /is already in use by container/);
});
