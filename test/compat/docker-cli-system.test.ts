import test from 'ava';
import { dockerAgainst, startDaemon, type DaemonProcess } from '../support/daemon-process.js';

let d: DaemonProcess;
test.before(async () => {
  d = await startDaemon();
});
test.after.always(async () => {
  await d?.stop();
});

const docker = (args: string[]) => dockerAgainst(d, args, 30_000);

test('docker version prints our server version', (t) => {
  const r = docker(['version']);
  t.is(r.status, 0, r.stderr);
  t.regex(
    r.stdout,
    /Server: tsswarm\n Engine:\n  Version:\s+0\.1\.0\n  API version:\s+1\.50 \(minimum version 1\.24\)/,
  );
  const f = docker(['version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}']);
  t.is(f.stdout.trim(), '0.1.0 1.50');
});

test('docker info prints Swarm: inactive', (t) => {
  const r = docker(['info']);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /\n Swarm: inactive\n/);
  t.regex(r.stdout, new RegExp(`Docker Root Dir: ${d.dataRoot}`));
  const f = docker(['info', '--format', '{{.Swarm.LocalNodeState}}']);
  t.is(f.stdout.trim(), 'inactive');
});
