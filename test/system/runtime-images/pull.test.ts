// Pulls from a real docker-registry on 127.0.0.1: content, shared layers, tampered blobs, missing images,
// unreachable registries, bad references, and the docker CLI's `docker pull` over our socket.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgument, NotFound, PermissionDenied, Unavailable } from '../../../api/index.js';
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
  await pushArchive(
    await busyboxArchive(dir, { Cmd: ['other-platform'] }),
    registry.host,
    'tss/busybox:other',
  );
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

test.serial('docker pull through our socket streams progress and registers the image', async (t) => {
  const d: DaemonProcess = await startDaemon();
  cleanups.push(() => d.stop());
  const env = { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: d.dir.path };
  const ref = `${registry.host}/tss/busybox:1`;
  const r = spawnSync('docker', ['pull', ref], { encoding: 'utf8', timeout: 60_000, env });
  t.is(r.status, 0, r.stderr);
  t.regex(r.stdout, /Pull complete/);
  t.regex(r.stdout, new RegExp(`Downloaded newer image for ${ref.replace(/[.]/g, '\\.')}`));
  const insp = spawnSync('docker', ['image', 'inspect', ref, '--format', '{{json .Config.Cmd}}'], {
    encoding: 'utf8',
    env,
  });
  t.is(insp.stdout.trim(), '["sh","-c","echo hi"]');
  const missing = spawnSync('docker', ['pull', `${registry.host}/tss/nope:1`], { encoding: 'utf8', env });
  t.not(missing.status, 0);
  t.regex(missing.stderr, /not found/);
});

/** A token-auth front on 127.0.0.1: /token checks basic credentials, /v2/ needs the bearer token (or basic). */
async function authFront(mode: 'bearer' | 'basic'): Promise<string> {
  const port = await freePort();
  const token = randomBytes(8).toString('hex');
  const basic = `Basic ${Buffer.from('tss-user:tss-pass').toString('base64')}`;
  const server = http.createServer((req, res) => {
    void (async () => {
      if (req.url?.startsWith('/token')) {
        if (req.headers.authorization !== basic) return res.writeHead(401).end();
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token }));
      }
      const ok = req.headers.authorization === (mode === 'bearer' ? `Bearer ${token}` : basic);
      if (!ok) {
        const challenge =
          mode === 'bearer'
            ? `Bearer realm="http://127.0.0.1:${port}/token",service="tss",scope="repository:tss/busybox:pull"`
            : 'Basic realm="tss"';
        return res.writeHead(401, { 'www-authenticate': challenge }).end();
      }
      const upstream = await fetch(`http://${registry.host}${req.url}`, {
        headers: { accept: req.headers.accept ?? '*/*' },
      });
      const headers: Record<string, string> = {};
      for (const h of ['content-type', 'docker-content-digest', 'content-length'])
        if (upstream.headers.get(h)) headers[h] = upstream.headers.get(h)!;
      res.writeHead(upstream.status, headers).end(Buffer.from(await upstream.arrayBuffer()));
    })();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  cleanups.push(() => new Promise((r) => server.close(r)));
  return `127.0.0.1:${port}`;
}

for (const mode of ['bearer', 'basic'] as const) {
  test.serial(`${mode} auth: credentials pull, no credentials is a permission error`, async (t) => {
    const front = await authFront(mode);
    const store = await newStore();
    const ref = `${front}/tss/busybox:1`;
    await t.throwsAsync(pullImage(store, ref), { instanceOf: PermissionDenied });
    await t.throwsAsync(pullImage(store, ref, { credentials: { username: 'tss-user', password: 'wrong' } }), {
      instanceOf: PermissionDenied,
    });
    const id = await pullImage(store, ref, { credentials: { username: 'tss-user', password: 'tss-pass' } });
    t.is((await store.resolve(ref)).id, id);
  });
}

/** The digest and size of a pushed manifest, from the registry's HEAD answer. */
async function manifestDescriptor(
  repo: string,
  tag: string,
): Promise<{ digest: string; size: number; mediaType: string }> {
  const res = await fetch(`http://${registry.host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  return {
    digest: res.headers.get('docker-content-digest')!,
    size: Number(res.headers.get('content-length')),
    mediaType: res.headers.get('content-type')!,
  };
}

test.serial(
  'a manifest list resolves to the requested platform, not the first entry; no match is a clear error',
  async (t) => {
    const amd = await manifestDescriptor('tss/busybox', '1');
    const arm = await manifestDescriptor('tss/busybox', 'other');
    t.not(amd.digest, arm.digest);
    const list = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      manifests: [
        { ...arm, platform: { os: 'linux', architecture: 'arm64' } },
        { ...amd, platform: { os: 'linux', architecture: 'amd64' } },
      ],
    };
    const put = await fetch(`http://${registry.host}/v2/tss/busybox/manifests/multi`, {
      method: 'PUT',
      headers: { 'content-type': list.mediaType },
      body: JSON.stringify(list),
    });
    t.is(put.status, 201, await put.text());
    const store = await newStore();
    await pullImage(store, `${registry.host}/tss/busybox:multi`, {
      platform: { os: 'linux', architecture: 'amd64' },
    });
    t.deepEqual((await store.resolve(`${registry.host}/tss/busybox:multi`)).config.Cmd, [
      'sh',
      '-c',
      'echo hi',
    ]);
    await pullImage(store, `${registry.host}/tss/busybox:multi`, {
      platform: { os: 'linux', architecture: 'arm64' },
    });
    t.deepEqual((await store.resolve(`${registry.host}/tss/busybox:multi`)).config.Cmd, ['other-platform']);
    await t.throwsAsync(
      pullImage(store, `${registry.host}/tss/busybox:multi`, {
        platform: { os: 'linux', architecture: 's390x' },
      }),
      { instanceOf: InvalidArgument, message: /no matching manifest for linux\/s390x/ },
    );
  },
);

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
