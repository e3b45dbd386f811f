import test from 'ava';
import { spawnSync } from 'node:child_process';
import { cliCommand, startDaemon, type DaemonProcess } from '../support/daemon-process.js';

let d: DaemonProcess;
test.before(async () => {
  d = await startDaemon();
});
test.after.always(async () => {
  await d?.stop();
});

function cli(args: string[], env: Record<string, string> = {}) {
  const [cmd, ...pre] = cliCommand();
  return spawnSync(cmd!, [...pre, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
}

test('tsswarm version shows client and server', (t) => {
  const r = cli(['-H', d.host, 'version']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /^Client:\n Version: +0\.1\.0/);
  t.regex(
    r.stdout,
    /Server: tsswarm\n Engine:\n  Version: +0\.1\.0\n  API version: +1\.50 \(minimum version 1\.24\)/,
  );
});

test('tsswarm info honours TSSWARM_HOST and --format', (t) => {
  const r = cli(['info'], { TSSWARM_HOST: d.host });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, / Swarm: inactive\n/);
  const j = cli(['-H', d.host, 'info', '--format', '{{json .Swarm}}']);
  t.is(JSON.parse(j.stdout).LocalNodeState, 'inactive');
  const f = cli(['-H', d.host, 'info', '--format', '{{.Swarm.LocalNodeState}} {{.OSType}}']);
  t.is(f.stdout, 'inactive linux\n');
});

test('no daemon: a clear error and exit 1', (t) => {
  const r = cli(['-H', 'unix:///nonexistent/tss.sock', 'info']);
  t.is(r.status, 1);
  t.is(
    r.stderr,
    'Cannot connect to the tsswarm daemon at unix:///nonexistent/tss.sock. Is the daemon running?\n',
  );
});

test('--help works everywhere; unknown commands fail', (t) => {
  for (const args of [['--help'], ['version', '--help'], ['info', '--help'], ['daemon', '--help']]) {
    const r = cli(args);
    t.is(r.status, 0, args.join(' '));
    t.regex(r.stdout, /Usage: tsswarm/);
  }
  const bad = cli(['frobnicate']);
  t.not(bad.status, 0);
  t.regex(bad.stderr, /unknown command 'frobnicate'/);
});
