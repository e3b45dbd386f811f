import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { cliCommand, request, startDaemon, type DaemonProcess } from '../support/daemon-process.js';
import { tempDir } from '../support/temp.js';

let d: DaemonProcess;
test.before(async () => {
  d = await startDaemon();
});
test.after.always(async () => {
  await d?.stop();
});

test('/_ping answers with Docker headers on GET and HEAD', async (t) => {
  for (const method of ['GET', 'HEAD']) {
    const res = await request(d.socket, method, '/_ping');
    t.is(res.statusCode, 200);
    t.is(res.headers['api-version'], '1.50');
    t.is(res.headers['ostype'], 'linux');
    t.is(res.headers['docker-experimental'], 'false');
    t.is(res.headers['swarm'], 'inactive');
    t.is(res.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    t.is(res.headers['pragma'], 'no-cache');
    t.is(res.body, method === 'GET' ? 'OK' : '');
  }
});

test('versioned and unversioned paths reach the same routes', async (t) => {
  for (const p of ['/version', '/v1.24/version', '/v1.50/version']) {
    const res = await request(d.socket, 'GET', p);
    t.is(res.statusCode, 200, p);
    t.is(JSON.parse(res.body).ApiVersion, '1.50');
  }
  const info = JSON.parse((await request(d.socket, 'GET', '/v1.50/info')).body);
  t.is(info.Swarm.LocalNodeState, 'inactive');
  t.is(info.DockerRootDir, d.dataRoot);
});

test('too new or too old API versions are refused with 400', async (t) => {
  const tooNew = await request(d.socket, 'GET', '/v1.51/version');
  t.is(tooNew.statusCode, 400);
  t.is(
    JSON.parse(tooNew.body).message,
    'client version 1.51 is too new. Maximum supported API version is 1.50',
  );
  const tooOld = await request(d.socket, 'GET', '/v1.12/version');
  t.is(tooOld.statusCode, 400);
  t.regex(JSON.parse(tooOld.body).message, /client version 1.12 is too old/);
});

test('unknown route gives 404 JSON', async (t) => {
  const res = await request(d.socket, 'GET', '/v1.50/no/such/thing');
  t.is(res.statusCode, 404);
  t.regex(String(res.headers['content-type']), /^application\/json/);
  t.deepEqual(JSON.parse(res.body), { message: 'page not found' });
});

test('malformed JSON on a POST gives 400 JSON with a message', async (t) => {
  const res = await request(d.socket, 'POST', '/v1.50/swarm/init', '{"ListenAddr": ', {
    'Content-Type': 'application/json',
  });
  t.is(res.statusCode, 400);
  t.regex(String(res.headers['content-type']), /^application\/json/);
  t.regex(JSON.parse(res.body).message, /^invalid JSON: /);
});

test('socket is created with mode 0660 in its directory', (t) => {
  t.is(statSync(d.socket).mode & 0o777, 0o660);
});

test('a second daemon on the same data root exits 1 with a message; the first keeps serving', async (t) => {
  const other = tempDir();
  try {
    const [cmd, ...pre] = cliCommand();
    const r = spawnSync(
      cmd!,
      [...pre, 'daemon', '--data-root', d.dataRoot, '--host', `unix://${join(other.path, 's.sock')}`],
      {
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    t.is(r.status, 1);
    t.regex(r.stderr, /data root .* is in use by another tsswarm daemon/);
    t.false(existsSync(join(other.path, 's.sock')));
    t.is((await request(d.socket, 'GET', '/_ping')).statusCode, 200);
  } finally {
    other.remove();
  }
});

test('a second daemon on a live socket exits 1; the first keeps serving', async (t) => {
  const other = tempDir();
  try {
    const [cmd, ...pre] = cliCommand();
    const r = spawnSync(cmd!, [...pre, 'daemon', '--data-root', join(other.path, 'root'), '--host', d.host], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    t.is(r.status, 1);
    t.regex(r.stderr, /API socket .* is already served by a running daemon/);
    t.is((await request(d.socket, 'GET', '/_ping')).statusCode, 200);
  } finally {
    other.remove();
  }
});

test('SIGTERM stops the daemon cleanly and removes its socket and lock', async (t) => {
  const one = await startDaemon();
  const socket = one.socket;
  const lock = join(one.dataRoot, 'tsswarm.pid');
  t.true(existsSync(lock));
  one.child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => one.child.once('exit', (c) => r(c)));
  t.is(code, 0);
  t.false(existsSync(socket));
  t.false(existsSync(lock));
  await one.stop();
});

test('a stale lock and socket from a killed daemon do not block a restart', async (t) => {
  const one = await startDaemon();
  const { dataRoot, socket } = one;
  one.child.kill('SIGKILL');
  await new Promise((r) => one.child.once('exit', r));
  const again = await startDaemon({ dataRoot, socket });
  t.is((await request(socket, 'GET', '/_ping')).statusCode, 200);
  await again.stop();
  await one.stop();
});
