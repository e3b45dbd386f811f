// The stock docker CLI against our socket: import, images, image inspect, tag, rmi, image prune, and errors.
import test from 'ava';
import { busyboxTar, importBusyboxIntoDaemon, requestRaw } from '../../support/busybox-image.js';
import { dockerAgainst, startDaemon, type DaemonProcess } from '../../support/daemon-process.js';

let d: DaemonProcess;
test.before(async () => {
  d = await startDaemon();
});
test.after.always(async () => {
  await d?.stop();
});

const docker = (args: string[]) => dockerAgainst(d, args);

test.serial('docker import, images, image inspect, tag, rmi, image prune', (t) => {
  const imp = docker(['import', busyboxTar(), 'tss-bb:one']);
  t.is(imp.status, 0, imp.stderr);
  const id = imp.stdout.trim();
  t.regex(id, /^sha256:[a-f0-9]{64}$/);

  const ls = docker(['images', '--format', '{{.Repository}} {{.Tag}} {{.ID}}']);
  t.is(ls.status, 0, ls.stderr);
  t.true(ls.stdout.split('\n').includes(`tss-bb one ${id.slice(7, 19)}`), ls.stdout);

  const insp = docker([
    'image',
    'inspect',
    'tss-bb:one',
    '--format',
    '{{.Id}} {{.Os}} {{len .RootFS.Layers}}',
  ]);
  t.is(insp.status, 0, insp.stderr);
  t.is(insp.stdout.trim(), `${id} linux 1`);

  const tag = docker(['tag', 'tss-bb:one', '127.0.0.1:5999/tss-bb:two']);
  t.is(tag.status, 0, tag.stderr);
  t.is(docker(['image', 'inspect', '127.0.0.1:5999/tss-bb:two', '--format', '{{.Id}}']).stdout.trim(), id);

  const untag = docker(['rmi', 'tss-bb:one']);
  t.is(untag.status, 0, untag.stderr);
  t.is(untag.stdout.trim(), 'Untagged: tss-bb:one');

  // A second import under the same tag leaves the first image dangling; prune deletes it.
  const again = docker(['import', busyboxTar(), '127.0.0.1:5999/tss-bb:two']);
  t.is(again.status, 0, again.stderr);
  const prune = docker(['image', 'prune', '-f']);
  t.is(prune.status, 0, prune.stderr);
  t.regex(prune.stdout, new RegExp(`deleted: ${id}`));
  const rm = docker(['rmi', '127.0.0.1:5999/tss-bb:two']);
  t.is(rm.status, 0, rm.stderr);
  t.regex(rm.stdout, /Untagged: 127\.0\.0\.1:5999\/tss-bb:two\nDeleted: sha256:/);
  t.is(docker(['images', '-q']).stdout.trim(), '');
});

test.serial('unknown images and bad references give Docker-style errors', async (t) => {
  const missing = docker(['image', 'inspect', 'tss-nope:1']);
  t.not(missing.status, 0);
  t.regex(missing.stderr, /No such image: tss-nope:1/);
  const rmi = docker(['rmi', 'tss-nope:1']);
  t.regex(rmi.stderr, /No such image: tss-nope:1/);
  const bad = await requestRaw(
    d.socket,
    'POST',
    '/images/create?fromSrc=-&repo=UPPER&tag=x',
    Buffer.from('x'),
    {
      'content-type': 'application/x-tar',
    },
  );
  t.is(bad.status, 400);
  t.regex(JSON.parse(bad.body).message as string, /must be lowercase/);
  const badTag = await requestRaw(
    d.socket,
    'POST',
    '/images/create?fromSrc=-&repo=ok&tag=bad%3Atag',
    Buffer.from('x'),
    {
      'content-type': 'application/x-tar',
    },
  );
  t.is(badTag.status, 400);
  const badPull = await requestRaw(d.socket, 'POST', '/images/create?fromImage=Bad%2FRef&tag=x');
  t.is(badPull.status, 400);
  t.regex(JSON.parse(badPull.body).message as string, /invalid reference format/);
});

test.serial('docker info counts the images of the store', async (t) => {
  const id = await importBusyboxIntoDaemon(d.socket, 'tss-count', 'x');
  t.regex(id, /^sha256:/);
  const info = docker(['info', '--format', '{{.Images}}']);
  t.is(info.stdout.trim(), '1');
  const rm = docker(['rmi', 'tss-count:x']);
  t.is(rm.status, 0, rm.stderr);
});
