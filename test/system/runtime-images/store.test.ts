// The image store on real files: import, resolve, tags, rm, prune, whiteouts, digest checks, bad input.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Conflict, InvalidArgument, NotFound } from '../../../api/index.js';
import { DigestMismatch, ImageStore } from '../../../runtime/image/index.js';
import { busyboxTar, importBusybox } from '../../support/busybox-image.js';
import { tempDir } from '../../support/temp.js';

const dirs: { remove(): void }[] = [];
test.after.always(() => dirs.forEach((d) => d.remove()));

async function newStore(): Promise<ImageStore> {
  const d = tempDir();
  dirs.push(d);
  const store = new ImageStore(join(d.path, 'image'));
  await store.start();
  return store;
}

test('import busybox → resolve gives one unpacked layer with the busybox binary and applets', async (t) => {
  const store = await newStore();
  const id = await importBusybox(store);
  t.regex(id, /^sha256:[a-f0-9]{64}$/);
  const img = await store.resolve('busybox:local');
  t.is(img.id, id);
  t.deepEqual(img.repoTags, ['busybox:local']);
  t.is(img.layerDirs.length, 1);
  const root = img.layerDirs[0];
  t.deepEqual(readFileSync(join(root, 'bin/busybox')), readFileSync('/bin/busybox'));
  t.true(lstatSync(join(root, 'bin/sh')).isSymbolicLink());
  t.regex(readFileSync(join(root, 'etc/passwd'), 'utf8'), /^nobody:x:65534/m);
  for (const d of ['tmp', 'proc', 'sys', 'dev']) t.true(lstatSync(join(root, d)).isDirectory());
  t.is(img.platform.os, 'linux');
  t.truthy(img.config.Env?.some((e) => e.startsWith('PATH=')));
  // short id and full id resolve too; the config blob's digest is the id
  t.is((await store.resolve(id.slice(7, 19))).id, id);
  t.is((await store.resolve(id)).id, id);
  t.is(
    `sha256:${execFileSync('sha256sum', [store.blobs.pathOf(id)], { encoding: 'utf8' }).slice(0, 64)}`,
    id,
  );
});

test('a restarted store finds its images; gzip tars import to the same layer', async (t) => {
  const store = await newStore();
  const id = await importBusybox(store, 'bb:one');
  const gz = execFileSync('gzip', ['-c', busyboxTar()], { maxBuffer: 64 << 20 });
  const id2 = await store.importRootfs(gz, 'bb:gz');
  const again = new ImageStore(store.root);
  await again.start();
  const a = await again.resolve('bb:one');
  const b = await again.resolve('bb:gz');
  t.is(a.id, id);
  t.is(b.id, id2);
  t.deepEqual(a.layerDirs, b.layerDirs, 'same diff_id: unpacked once, shared');
});

test('tag, untag, rm refuses an image in use unless forced, prune removes dangling images', async (t) => {
  const store = await newStore();
  const id = await importBusybox(store, 'bb:a');
  await store.tag('bb:a', '127.0.0.1:5000/bb:b');
  t.deepEqual(store.record(id).repoTags, ['127.0.0.1:5000/bb:b', 'bb:a']);
  t.deepEqual(await store.remove('bb:a'), [{ Untagged: 'bb:a' }]);
  store.setInUse((i) => i === id);
  await t.throwsAsync(store.remove('127.0.0.1:5000/bb:b'), { instanceOf: Conflict });
  const layer = (await store.resolve(id)).layerDirs[0];
  const report = await store.remove(id, true);
  t.deepEqual(report, [{ Untagged: '127.0.0.1:5000/bb:b' }, { Deleted: id }]);
  t.false(existsSync(layer), 'the unshared layer is gone');
  await t.throwsAsync(store.resolve(id), { instanceOf: NotFound });

  store.setInUse(() => false);
  const old = await importBusybox(store, 'bb:c');
  const current = await importBusybox(store, 'bb:c'); // the tag moves: `old` is now dangling
  t.not(old, current, 'configs carry their creation time');
  t.deepEqual(store.record(old).repoTags, []);
  const pruned = await store.prune();
  t.deepEqual(pruned.deleted, [{ Deleted: old }]);
  t.true(pruned.spaceReclaimed > 1_000_000);
  t.is((await store.resolve('bb:c')).id, current);
  t.true(existsSync((await store.resolve('bb:c')).layerDirs[0]), 'the shared layer stays for bb:c');
  t.is(store.count(), 1);
});

test('unknown images and bad references are typed errors', async (t) => {
  const store = await newStore();
  await t.throwsAsync(store.resolve('nope:latest'), {
    instanceOf: NotFound,
    message: 'No such image: nope:latest',
  });
  await t.throwsAsync(store.importRootfs(Buffer.from(''), 'UPPER:case'), { instanceOf: InvalidArgument });
  await t.throwsAsync(store.importRootfs(Buffer.from(''), 'a:b@c'), { instanceOf: InvalidArgument });
  await t.throwsAsync(store.tag('nope', 'x:y'), { instanceOf: NotFound });
  await t.throwsAsync(store.importRootfs(Buffer.from('not a tar at all'), 'junk:1'), {
    message: /tar/,
  });
  t.is(store.count(), 0);
});

test('blob writes verify the digest and leave nothing behind on a mismatch', async (t) => {
  const store = await newStore();
  const wrong = `sha256:${'0'.repeat(64)}`;
  await t.throwsAsync(store.blobs.put(Buffer.from('hello'), wrong), { instanceOf: DigestMismatch });
  t.false(await store.blobs.has(wrong));
  t.deepEqual(readdirSync(join(store.blobs.root, 'sha256')), []);
  t.deepEqual(readdirSync(join(store.blobs.root, 'tmp')), []);
  await t.throwsAsync(store.blobs.put(Buffer.from('x'), 'md5:abc'), { instanceOf: InvalidArgument });
});

test('layer whiteouts become 0/0 char devices and opaque dirs get trusted.overlay.opaque=y', async (t) => {
  const store = await newStore();
  const d = tempDir();
  dirs.push(d);
  const src = join(d.path, 'src');
  mkdirSync(join(src, 'etc/opaque'), { recursive: true });
  writeFileSync(join(src, 'etc/opaque/.wh..wh..opq'), '');
  writeFileSync(join(src, 'etc/.wh.removed'), '');
  writeFileSync(join(src, 'etc/kept'), 'yes');
  execFileSync('tar', ['-C', src, '-cf', join(d.path, 'l.tar'), '.']);
  await store.importRootfs(readFileSync(join(d.path, 'l.tar')), 'wh:1');
  const [root] = (await store.resolve('wh:1')).layerDirs;
  const dev = lstatSync(join(root, 'etc/removed'));
  t.true(dev.isCharacterDevice());
  t.is(dev.rdev, 0);
  t.false(existsSync(join(root, 'etc/.wh.removed')));
  t.false(existsSync(join(root, 'etc/opaque/.wh..wh..opq')));
  const listing = execFileSync('tar', [
    '--xattrs',
    '--xattrs-include=trusted.*',
    '-C',
    root,
    '-cf',
    '-',
    'etc/opaque',
  ]);
  t.true(listing.includes('SCHILY.xattr.trusted.overlay.opaque=y'));
  t.is(readFileSync(join(root, 'etc/kept'), 'utf8'), 'yes');
});

test('concurrent imports of the same rootfs share one layer and both succeed', async (t) => {
  const store = await newStore();
  const tar = readFileSync(busyboxTar());
  const [a, b] = await Promise.all([store.importRootfs(tar, 'cc:a'), store.importRootfs(tar, 'cc:b')]);
  const [ra, rb] = [await store.resolve(a), await store.resolve(b)];
  t.deepEqual(ra.layerDirs, rb.layerDirs);
  t.deepEqual(readdirSync(join(store.layers.root, 'tmp')), []);
  t.is(store.count(), a === b ? 1 : 2);
});
