/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies of the API under test */
// The node's Docker container API on a real daemon: create/start/inspect/list with filters, logs (framing, tail,
// since, timestamps, stream selection, follow), wait with OOM, exec, Docker-style 4xx errors, a registry image
// pulled and run, and the daemon SIGKILLed while containers run: they survive and are re-adopted with their logs.
import test from 'ava';
import http from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { demux } from '../../../runtime/index.js';
import { importBusyboxIntoDaemon } from '../../support/busybox-image.js';
import { request, startDaemon, type DaemonProcess } from '../../support/daemon-process.js';
import { busyboxArchive, pushArchive, startRegistry } from '../../support/registry.js';
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
    const list = await api('GET', '/containers/json?all=1').catch(() => ({ body: [] }));
    for (const c of list.body as { Id: string }[])
      await api('DELETE', `/containers/${c.Id}?force=1`).catch(() => undefined);
    await d.stop();
  }
  await cleanupDataRoot(dataRoot);
  root.remove();
});

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await request(
    d.socket,
    method,
    `/v1.50${path}`,
    body === undefined ? undefined : JSON.stringify(body),
    {
      'content-type': 'application/json',
    },
  );
  let parsed: unknown = res.body;
  try {
    parsed = res.body ? JSON.parse(res.body) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.statusCode ?? 0, body: parsed };
}

/** GET (or POST) of a streamed body; resolves with what came when the response ends or the connection goes. */
function raw(path: string, method = 'GET'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const req = http.request({ socketPath: d.socket, method, path: `/v1.50${path}` }, (res) => {
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => undefined);
      res.on('close', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', (err) => (chunks.length ? resolve(Buffer.concat(chunks)) : reject(err)));
    req.end();
  });
}

async function runC(body: object, name = uniqueName()): Promise<string> {
  const c = await api('POST', `/containers/create?name=${name}`, { Image: 'busybox:local', ...body });
  if (c.status !== 201) throw new Error(`create: ${c.status} ${JSON.stringify(c.body)}`);
  const s = await api('POST', `/containers/${c.body.Id}/start`);
  if (s.status !== 204) throw new Error(`start: ${s.status} ${JSON.stringify(s.body)}`);
  return c.body.Id as string;
}

const waitExit = async (id: string) => (await api('POST', `/containers/${id}/wait`)).body;

test.serial('create, start, inspect, list with filters, wait, logs with framing and selection', async (t) => {
  const label = uniqueName();
  const id = await runC({
    Cmd: ['sh', '-c', 'echo out1; echo err1 >&2; sleep 0.3; echo out2; sleep 30'],
    Labels: { 'tss.test': label },
  });
  const inspect = await api('GET', `/containers/${id}/json`);
  t.is(inspect.status, 200);
  t.is(inspect.body.State.Status, 'running');
  t.true(inspect.body.State.Pid > 0);
  t.is(inspect.body.Config.Labels['tss.test'], label);
  const filters = (f: object) => `/containers/json?filters=${encodeURIComponent(JSON.stringify(f))}`;
  t.deepEqual(
    (await api('GET', filters({ label: [`tss.test=${label}`] }))).body.map((c: any) => c.Id),
    [id],
  );
  t.deepEqual((await api('GET', filters({ label: { 'tss.test=other': true } }))).body, []);
  t.deepEqual(
    (await api('GET', filters({ name: [inspect.body.Name.slice(1)] }))).body.map((c: any) => c.Id),
    [id],
  );
  t.is((await api('GET', filters({ status: ['exited'], label: [`tss.test=${label}`] }))).body.length, 0);
  const listed = (await api('GET', '/containers/json')).body.find((c: any) => c.Id === id);
  t.regex(listed.Status, /^Up /);
  t.is(listed.State, 'running');

  await until(
    async () => demux(await raw(`/containers/${id}/logs?stdout=1`)).length === 2,
    10_000,
    'two stdout lines',
  );
  t.deepEqual(
    demux(await raw(`/containers/${id}/logs?stdout=1&stderr=1`))
      .map((f) => `${f.stream}:${f.text}`)
      .sort(),
    ['stderr:err1\n', 'stdout:out1\n', 'stdout:out2\n'],
  );
  t.deepEqual(demux(await raw(`/containers/${id}/logs?stderr=1`)), [{ stream: 'stderr', text: 'err1\n' }]);
  t.deepEqual(demux(await raw(`/containers/${id}/logs?stdout=1&tail=1`)), [
    { stream: 'stdout', text: 'out2\n' },
  ]);
  const stamped = demux(await raw(`/containers/${id}/logs?stdout=1&timestamps=1&tail=1`))[0]!.text;
  t.regex(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|\+00:00) out2\n$/);
  const far = Math.floor(Date.now() / 1000) + 3600;
  t.deepEqual(demux(await raw(`/containers/${id}/logs?stdout=1&since=${far}`)), []);

  t.is((await api('POST', `/containers/${id}/stop?t=1`)).status, 204);
  t.is((await api('POST', `/containers/${id}/stop`)).status, 304);
  t.is((await waitExit(id)).StatusCode, 137);
  const exited = (await api('GET', filters({ status: ['exited'], label: [`tss.test=${label}`] }))).body;
  t.deepEqual(
    exited.map((c: any) => c.Id),
    [id],
  );
  t.regex(exited[0].Status, /^Exited \(137\) /);
  t.is((await api('POST', `/containers/${id}/restart?t=1`)).status, 204);
  t.true((await api('GET', `/containers/${id}/json`)).body.State.Running);
  t.is((await api('POST', `/containers/${id}/start`)).status, 304);
  t.is((await api('POST', `/containers/${id}/kill?signal=SIGKILL`)).status, 204);
  t.is((await api('DELETE', `/containers/${id}`)).status, 204);
  t.is((await api('GET', `/containers/${id}/json`)).status, 404);
});

test.serial('logs follow streams new lines and ends when the container exits', async (t) => {
  const id = await runC({ Cmd: ['sh', '-c', 'for i in 1 2 3 4 5; do echo tick $i; sleep 0.2; done'] });
  const body = await raw(`/containers/${id}/logs?stdout=1&follow=1`);
  t.deepEqual(
    demux(body).map((f) => f.text),
    ['tick 1\n', 'tick 2\n', 'tick 3\n', 'tick 4\n', 'tick 5\n'],
  );
  t.is((await waitExit(id)).StatusCode, 0);
});

test.serial('wait reports an OOM kill; exec create/start/inspect', async (t) => {
  const oom = await runC({
    Cmd: ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\000" a); echo ${#x}'],
    HostConfig: { Memory: 16 << 20 },
  });
  const w = await waitExit(oom);
  t.is(w.StatusCode, 137);
  t.true(w.OOMKilled);
  t.true((await api('GET', `/containers/${oom}/json`)).body.State.OOMKilled);

  const id = await runC({ Cmd: ['sleep', '30'] });
  const ex = await api('POST', `/containers/${id}/exec`, {
    Cmd: ['sh', '-c', 'echo in; echo er >&2; exit 7'],
    AttachStdout: true,
    AttachStderr: true,
  });
  t.is(ex.status, 201);
  const out = await new Promise<Buffer>((resolve, reject) => {
    const req = http.request(
      {
        socketPath: d.socket,
        method: 'POST',
        path: `/v1.50/exec/${ex.body.Id}/start`,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify({ Detach: false, Tty: false }));
  });
  t.deepEqual(
    demux(out)
      .map((f) => `${f.stream}:${f.text}`)
      .sort(),
    ['stderr:er\n', 'stdout:in\n'],
  );
  const info = await api('GET', `/exec/${ex.body.Id}/json`);
  t.is(info.body.ExitCode, 7);
  t.is(info.body.Running, false);
  t.is((await api('POST', `/exec/${ex.body.Id}/start`, { Detach: false })).status, 409);
});

test.serial('bad input: Docker-style 4xx messages, and a failed create leaves nothing on disk', async (t) => {
  const containersDir = join(dataRoot, 'containers');
  const before = readdirSync(containersDir).sort();
  const expect = async (method: string, path: string, body: unknown, status: number, msg: RegExp) => {
    const r = await api(method, path, body);
    t.is(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
    t.regex(r.body?.message ?? '', msg);
  };
  const create = (body: object, q = '') =>
    expect.bind(null, 'POST', `/containers/create${q}`, { Image: 'busybox:local', Cmd: ['true'], ...body });
  await create({ Image: 'Bad/Ref' })(400, /invalid reference format/);
  await create({ Image: 'tss-missing:1' })(404, /No such image: tss-missing:1/);
  await create({ HostConfig: { Memory: -5 } })(400, /Minimum memory limit allowed is 6MB/);
  await create({ HostConfig: { NanoCpus: -1 } })(400, /invalid NanoCpus/);
  await create({ HostConfig: { Binds: ['/tmp'] } })(400, /invalid volume specification: '\/tmp'/);
  await create({ HostConfig: { Mounts: [{ Type: 'bind', Source: '', Target: '/x' }] } })(
    400,
    /field Source must not be empty/,
  );
  await create({ HostConfig: { Mounts: [{ Type: 'nfs', Target: '/x' }] } })(400, /mount type unknown/);
  await create({ HostConfig: { Tmpfs: { '/a': '' }, Binds: ['v1:/a'] } })(400, /Duplicate mount point: \/a/);
  await create({}, '?name=no%20spaces')(400, /Invalid container name \(no spaces\)/);
  await expect('POST', '/containers/create', undefined, 400, /Config cannot be empty/);
  t.deepEqual(readdirSync(containersDir).sort(), before, 'nothing left by failed creates');

  await expect('GET', '/containers/tss-nope/json', undefined, 404, /No such container: tss-nope/);
  await expect('POST', '/containers/tss-nope/start', undefined, 404, /No such container: tss-nope/);
  await expect('DELETE', '/containers/tss-nope', undefined, 404, /No such container: tss-nope/);
  await expect('GET', '/exec/ffff/json', undefined, 404, /No such exec instance: ffff/);
  await expect(
    'GET',
    '/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D',
    undefined,
    400,
    /invalid filter 'bogus'/,
  );
  await expect(
    'GET',
    '/containers/json?filters=%7B%22status%22%3A%5B%22sleepy%22%5D%7D',
    undefined,
    400,
    /invalid filter 'status=sleepy'/,
  );

  const name = uniqueName();
  const id = await runC({ Cmd: ['sleep', '30'] }, name);
  await create({}, `?name=${name}`)(
    409,
    new RegExp(`The container name "/${name}" is already in use by container "${id}"`),
  );
  await expect(
    'DELETE',
    `/containers/${name}`,
    undefined,
    409,
    /container is running: stop the container before removing or force remove/,
  );
  await expect('GET', `/containers/${name}/logs`, undefined, 400, /you must choose at least one stream/);
  await expect(
    'POST',
    `/containers/${name}/kill?signal=SIGBOGUS`,
    undefined,
    400,
    /Invalid signal: SIGBOGUS/,
  );
  await expect('POST', `/containers/${name}/wait?condition=whenever`, undefined, 400, /invalid condition/);
  await expect('POST', `/containers/${name}/exec`, { Cmd: [] }, 400, /No exec command specified/);
  t.is((await api('DELETE', `/containers/${name}?force=1`)).status, 204);
  const noExe = await api('POST', '/containers/create', {
    Image: 'busybox:local',
    Cmd: ['tss-no-such-binary'],
  });
  await expect('POST', `/containers/${noExe.body.Id}/start`, undefined, 400, /executable file not found/);
  t.is((await api('GET', `/containers/${noExe.body.Id}/json`)).body.State.ExitCode, 127);
  t.is((await api('DELETE', `/containers/${noExe.body.Id}`)).status, 204);
  const stopped = await runC({ Cmd: ['true'] });
  await waitExit(stopped);
  await expect('POST', `/containers/${stopped}/kill`, undefined, 409, /is not running/);
  await expect('POST', `/containers/${stopped}/exec`, { Cmd: ['true'] }, 409, /is not running/);
  t.is((await api('DELETE', `/containers/${stopped}`)).status, 204);
});

test.serial('an image pulled from a local registry runs', async (t) => {
  const registry = await startRegistry();
  const dir = tempDir();
  try {
    await pushArchive(
      await busyboxArchive(dir, { Cmd: ['sh', '-c', 'echo pulled-and-ran'] }),
      registry.host,
      'tss/run:1',
    );
    const pull = await api('POST', `/images/create?fromImage=${registry.host}/tss/run&tag=1`);
    t.is(pull.status, 200);
    const id = await runC({ Image: `${registry.host}/tss/run:1` });
    t.is((await waitExit(id)).StatusCode, 0);
    t.deepEqual(
      demux(await raw(`/containers/${id}/logs?stdout=1`)).map((f) => f.text),
      ['pulled-and-ran\n'],
    );
    const rmi = await api('DELETE', `/images/${encodeURIComponent(`${registry.host}/tss/run:1`)}`);
    t.is(rmi.status, 409, 'an image a container uses is not removed');
    t.is((await api('DELETE', `/containers/${id}`)).status, 204);
  } finally {
    await registry.stop();
    dir.remove();
  }
});

test.serial(
  'daemon SIGKILLed while 3 containers run: they keep running, are re-adopted, no log line lost',
  async (t) => {
    const counter = 'i=0; while true; do i=$((i+1)); echo n $i; sleep 0.1; done';
    const ids = [
      await runC({ Cmd: ['sh', '-c', counter] }),
      await runC({ Cmd: ['sh', '-c', counter] }),
      await runC({ Cmd: ['sh', '-c', 'sleep 1.5; exit 3'] }),
    ];
    const pids = await Promise.all(
      ids.map(async (id) => (await api('GET', `/containers/${id}/json`)).body.State.Pid as number),
    );
    await d.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2500));
    for (const pid of pids.slice(0, 2))
      t.true(existsSync(`/proc/${pid}`), `container process ${pid} outlived the daemon`);
    d = await startDaemon({ dataRoot });
    for (const [i, id] of ids.slice(0, 2).entries()) {
      const s = (await api('GET', `/containers/${id}/json`)).body.State;
      t.true(s.Running);
      t.is(s.Pid, pids[i]);
      const lines = demux(await raw(`/containers/${id}/logs?stdout=1`)).map((f) =>
        Number(f.text.split(' ')[1]),
      );
      t.true(lines.length >= 25, `${lines.length} lines, including those written while the daemon was down`);
      t.deepEqual(
        lines,
        lines.map((_, k) => k + 1),
        'contiguous',
      );
    }
    const exitedMeanwhile = (await api('GET', `/containers/${ids[2]}/json`)).body.State;
    t.is(exitedMeanwhile.Status, 'exited');
    t.is(exitedMeanwhile.ExitCode, 3, 'exit code recorded by conmon while the daemon was down');
    // The adopted containers are fully managed again: stop records their exit.
    t.is((await api('POST', `/containers/${ids[0]}/stop?t=1`)).status, 204);
    t.is((await api('GET', `/containers/${ids[0]}/json`)).body.State.ExitCode, 137);
    for (const id of ids) t.is((await api('DELETE', `/containers/${id}?force=1`)).status, 204);
  },
);

test.serial(
  'a graceful daemon stop ends pending wait and follow streams and leaves containers running',
  async (t) => {
    const id = await runC({ Cmd: ['sh', '-c', 'while true; do echo x; sleep 0.2; done'] });
    const pid = (await api('GET', `/containers/${id}/json`)).body.State.Pid as number;
    const pending = [
      raw(`/containers/${id}/logs?stdout=1&follow=1`).catch(() => Buffer.alloc(0)),
      raw(`/containers/${id}/wait`, 'POST').catch(() => Buffer.alloc(0)),
    ];
    await new Promise((r) => setTimeout(r, 500));
    const t0 = Date.now();
    const code = await d.stop('SIGTERM');
    t.is(code, 0);
    t.true(Date.now() - t0 < 10_000, `daemon stopped in ${Date.now() - t0} ms`);
    await Promise.all(pending);
    t.true(existsSync(`/proc/${pid}`), 'the container outlived a graceful daemon stop');
    d = await startDaemon({ dataRoot });
    t.true((await api('GET', `/containers/${id}/json`)).body.State.Running);
    t.is((await api('DELETE', `/containers/${id}?force=1`)).status, 204);
  },
);

test.after('cleanup: no runc containers, mounts or tss cgroups of this daemon remain', async (t) => {
  const list = await api('GET', '/containers/json?all=1');
  for (const c of list.body as { Id: string }[]) await api('DELETE', `/containers/${c.Id}?force=1`);
  const runcDir = join(dataRoot, 'runc');
  t.deepEqual(existsSync(runcDir) ? readdirSync(runcDir) : [], []);
  t.deepEqual(
    readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .filter((l) => l.includes(dataRoot)),
    [],
  );
  t.deepEqual(readdirSync(join(dataRoot, 'containers')), []);
});
