// Pulls from a real docker-registry on 127.0.0.1: content, shared layers, tampered blobs, missing images,
// unreachable registries, bad references, and the docker CLI's `docker pull` over our socket.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, NotFound, Unavailable } from '../../../api/index.js';
import { DigestMismatch, ImageStore, pullImage, type PullProgress } from '../../../runtime/image/index.js';
import { startDaemon, type DaemonProcess } from '../../support/daemon-process.js';
import { freePort } from '../../support/net.js';
import { busyboxArchive, pushArchive, startRegistry, type Registry } from '../../support/registry.js';
import { tempDir } from '../../support/temp.js';

const cleanups: (() => unknown)[] = [];
let registry: Registry;
test.before(async () => {
  registry = await startRegistry();
  cleanups.push(() => registry.stop());
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const archive = await busyboxArchive(dir, { Cmd: ['sh', '-c', 'echo hi'], WorkingDir: '/tmp' });
  await pushArchive(archive, registry.host, 'tss/busybox:1');
  await pushArchive(archive, registry.host, 'tss/tamper:1');
});
test.after.always(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function newStore(): Promise<ImageStore> {
  const d = tempDir();
  cleanups.push(() => d.remove());
  const store = new ImageStore(join(d.path, 'image'));
  await store.start();
  return store;
}

test.serial('pull from the local registry, then resolve: config and layer contents', async (t) => {
  const store = await newStore();
  const events: PullProgress[] = [];
  const ref = `${registry.host}/tss/busybox:1`;
  const id = await pullImage(store, ref, { onProgress: (p) => events.push(p) });
  const img = await store.resolve(ref);
  t.is(img.id, id);
  t.deepEqual(img.config.Cmd, ['sh', '-c', 'echo hi']);
  t.is(img.config.WorkingDir, '/tmp');
  t.is(img.layerDirs.length, 1);
  t.deepEqual(readFileSync(join(img.layerDirs[0]!, 'bin/busybox')), readFileSync('/bin/busybox'));
  t.truthy(events.find((e) => e.status === `Pulling from ${registry.host}/tss/busybox`));
  t.truthy(events.find((e) => e.status === 'Downloading' && e.progressDetail?.total));
  t.truthy(events.find((e) => e.status === 'Pull complete'));
  // A second pull reuses the unpacked layer.
  const again: PullProgress[] = [];
  await pullImage(store, ref, { onProgress: (p) => again.push(p) });
  t.truthy(again.find((e) => e.status === 'Already exists'));
  t.deepEqual(readdirSync(join(store.blobs.root, 'tmp')), []);
});

test.serial('unknown images, unreachable registries and bad references are clear errors', async (t) => {
  const store = await newStore();
  await t.throwsAsync(pullImage(store, `${registry.host}/tss/nope:1`), {
    instanceOf: NotFound,
    message: /not found/,
  });
  const port = await freePort();
  const started = Date.now();
  await t.throwsAsync(pullImage(store, `127.0.0.1:${port}/x:1`, { timeoutMs: 2000 }), {
    instanceOf: Unavailable,
    message: new RegExp(`registry 127.0.0.1:${port} is unreachable`),
  });
  t.true(Date.now() - started < 5000);
  await t.throwsAsync(pullImage(store, 'Bad/Ref:x'), { instanceOf: InvalidArgument });
});

// Last: the registry's copy of the (shared) layer is corrupted for good.
test.serial(
  'a tampered registry blob fails the pull with a digest mismatch and leaves no image',
  async (t) => {
    const blobs = join(registry.storage, 'docker/registry/v2/blobs/sha256');
    // Corrupt every large blob (the layer) in place: same length, different bytes.
    for (const prefix of readdirSync(blobs))
      for (const hex of readdirSync(join(blobs, prefix))) {
        const data = join(blobs, prefix, hex, 'data');
        const buf = readFileSync(data);
        if (buf.length < 100_000) continue;
        buf[buf.length >> 1] ^= 0xff;
        writeFileSync(data, buf);
      }
    const store = await newStore();
    await t.throwsAsync(pullImage(store, `${registry.host}/tss/tamper:1`), { instanceOf: DigestMismatch });
    t.is(store.count(), 0);
    await t.throwsAsync(store.resolve(`${registry.host}/tss/tamper:1`), { instanceOf: NotFound });
    t.deepEqual(readdirSync(join(store.blobs.root, 'tmp')), []);
    t.deepEqual(await store.layers.list(), []);
  },
);
