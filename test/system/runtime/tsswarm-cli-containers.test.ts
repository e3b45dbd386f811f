// Our CLI against a daemon: tsswarm container run -d, ls (filters), inspect, logs, exec, stop, rm.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { importBusyboxIntoDaemon } from '../../support/busybox-image.js';
import { cliCommand, startDaemon, type DaemonProcess } from '../../support/daemon-process.js';
import { tempDir, uniqueName } from '../../support/temp.js';
import { cleanupDataRoot, until } from './fixture.js';

const root = tempDir();
const dataRoot = join(root.path, 'data');
let d: DaemonProcess;
test.before(async () => {
  d = await startDaemon({ dataRoot });
  await importBusyboxIntoDaemon(d.socket);
});
test.after.always(async () => {
  if (d) {
    const ids = tss(['container', 'ls', '-a', '-q']).stdout.split('\n').filter(Boolean);
    if (ids.length) tss(['container', 'rm', '-f', ...ids]);
    await d.stop();
  }
  await cleanupDataRoot(dataRoot);
  root.remove();
});

function tss(args: string[]) {
  const [cmd, ...pre] = cliCommand();
  return spawnSync(cmd!, [...pre, '-H', d.host, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test.serial('run -d, ls, inspect, logs, exec, stop, rm', async (t) => {
  const name = uniqueName();
  const run = tss([
    'container',
    'run',
    '-d',
    '--name',
    name,
    '-e',
    'X=42',
    '-l',
    'tss.cli=yes',
    '--memory',
    '32m',
    '--health-cmd',
    'true',
    '--health-interval',
    '200ms',
    'busybox:local',
    'sh',
    '-c',
    'echo started $X; echo oops >&2; exec sleep 60',
  ]);
  t.is(run.status, 0, run.stderr);
  const id = run.stdout.trim();
  t.regex(id, /^[a-f0-9]{64}$/);
  t.regex(tss(['container', 'ls']).stdout, new RegExp(`${id.slice(0, 12)}\\s+busybox:local.*Up .*${name}`));
  t.is(tss(['container', 'ls', '-q', '--filter', 'label=tss.cli=yes']).stdout.trim(), id.slice(0, 12));
  t.is(tss(['container', 'ls', '-q', '--filter', 'label=tss.cli=no']).stdout.trim(), '');
  t.is(tss(['container', 'inspect', '-f', '{{.HostConfig.Memory}}', name]).stdout.trim(), String(32 << 20));
  await until(
    () => tss(['container', 'inspect', '-f', '{{.State.Health.Status}}', name]).stdout.trim() === 'healthy',
    20_000,
    'healthy',
  );
  const logs = tss(['container', 'logs', name]);
  t.is(logs.stdout, 'started 42\n');
  t.is(logs.stderr, 'oops\n');
  const ex = tss(['container', 'exec', name, 'sh', '-c', 'echo x=$X; exit 9']);
  t.is(ex.status, 9);
  t.is(ex.stdout, 'x=42\n');
  const stop = tss(['container', 'stop', '-t', '1', name]);
  t.is(stop.status, 0, stop.stderr);
  t.is(tss(['container', 'inspect', '-f', '{{.State.ExitCode}}', name]).stdout.trim(), '137');
  t.is(tss(['container', 'rm', name]).status, 0);
  const gone = tss(['container', 'inspect', name]);
  t.not(gone.status, 0);
  t.regex(gone.stderr, new RegExp(`No such container: ${name}`));
});

test.serial('run without -d is refused; bad flags are daemon 400s', (t) => {
  const attached = tss(['container', 'run', 'busybox:local', 'true']);
  t.is(attached.status, 125);
  t.regex(attached.stderr, /add -d/);
  const bad = tss(['container', 'run', '-d', '--memory', '1k', 'busybox:local', 'true']);
  t.not(bad.status, 0);
  t.regex(bad.stderr, /Error response from daemon: Minimum memory limit allowed is 6MB/);
});
