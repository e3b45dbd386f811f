// Our own CLI: tsswarm image import|ls|inspect|tag|rm|prune|pull against a daemon and a local registry.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { busyboxTar } from '../../support/busybox-image.js';
import { cliCommand, startDaemon, type DaemonProcess } from '../../support/daemon-process.js';
import { busyboxArchive, pushArchive, startRegistry, type Registry } from '../../support/registry.js';
import { tempDir } from '../../support/temp.js';

let d: DaemonProcess;
let registry: Registry;
const dir = tempDir();
test.before(async () => {
  d = await startDaemon();
  registry = await startRegistry();
  await pushArchive(await busyboxArchive(dir), registry.host, 'tss/cli:1');
});
test.after.always(async () => {
  await d?.stop();
  await registry?.stop();
  dir.remove();
});

function tss(args: string[]) {
  const [cmd, ...pre] = cliCommand();
  return spawnSync(cmd!, [...pre, '-H', d.host, ...args], { encoding: 'utf8', timeout: 60_000 });
}

test.serial('import, ls, inspect, tag, rm, prune', (t) => {
  const imp = tss(['image', 'import', busyboxTar(), 'tss-cli:a']);
  t.is(imp.status, 0, imp.stderr);
  const id = imp.stdout.trim();
  t.regex(id, /^sha256:[a-f0-9]{64}$/);
  t.regex(tss(['image', 'ls']).stdout, new RegExp(`tss-cli\\s+a\\s+${id.slice(7, 19)}`));
  t.is(tss(['image', 'inspect', '-f', '{{.Id}}', 'tss-cli:a']).stdout.trim(), id);
  t.is(tss(['image', 'tag', 'tss-cli:a', 'tss-cli:b']).status, 0);
  t.is(tss(['image', 'rm', 'tss-cli:a']).stdout, 'Untagged: tss-cli:a\n');
  const missing = tss(['image', 'inspect', 'tss-cli:a']);
  t.not(missing.status, 0);
  t.regex(missing.stderr, /No such image: tss-cli:a/);
  t.regex(tss(['image', 'rm', 'tss-cli:b']).stdout, /Deleted: sha256:/);
  t.regex(tss(['image', 'prune', '-f']).stdout, /Total reclaimed space/);
});

test.serial('pull prints per-layer progress; a missing image fails with the registry error', (t) => {
  const ref = `${registry.host}/tss/cli:1`;
  const r = tss(['image', 'pull', ref]);
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Pull complete/);
  t.regex(tss(['image', 'ls', '--format', '{{.RepoTags}}']).stdout, /tss\/cli:1/);
  const bad = tss(['image', 'pull', `${registry.host}/tss/none:1`]);
  t.not(bad.status, 0);
  t.regex(bad.stderr, /not found/);
});
