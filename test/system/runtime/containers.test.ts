// The container manager on real runc + conmon + overlayfs + cgroups: output and exit codes, env/user/workdir/
// hostname, OOM, pids, read-only root, volumes, binds, tmpfs, caps, network modes, CPU limits, stop grace,
// health checks, log rotation, bad input leaving nothing behind, and no runc containers/mounts/cgroups left.
import test from 'ava';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupDirs, runcKill } from '../../../runtime/index.js';
import { uniqueName } from '../../support/temp.js';
import { managerFixture, until, type ManagerFixture } from './fixture.js';

let f: ManagerFixture;
const made: string[] = [];
test.before(async () => {
  f = await managerFixture();
});
test.after.always(async () => {
  await f?.cleanup();
});

async function run(body: Parameters<ManagerFixture['run']>[0]): Promise<string> {
  const id = await f.run(body);
  made.push(id);
  return id;
}

const wait = (id: string) => f.manager.wait(id);

test('echo hi: output in the logs, exit code 0; non-zero exits reported', async (t) => {
  const ok = await run({ Cmd: ['echo', 'hi'] });
  t.is((await wait(ok)).StatusCode, 0);
  t.is(f.logs(ok), 'hi\n');
  const rec = f.manager.get(ok);
  t.is(rec.State.Status, 'exited');
  t.not(rec.State.FinishedAt, '0001-01-01T00:00:00Z');
  const bad = await run({ Cmd: ['sh', '-c', 'echo oops >&2; exit 3'] });
  t.is((await wait(bad)).StatusCode, 3);
  t.is(f.manager.get(bad).State.ExitCode, 3);
  t.is(f.logs(bad), 'oops\n');
});

test('AutoRemove (--rm): the container is removed once it exits; wait condition=removed sees it', async (t) => {
  const id = await run({ Cmd: ['true'], HostConfig: { AutoRemove: true } });
  // Already gone (NotFound) is fine too: the exit may be handled before the wait is registered.
  const removed = await f.manager
    .wait(id, 'removed')
    .catch((err: Error) => ({ StatusCode: /No such container/.test(err.message) ? 0 : -1 }));
  t.is(removed.StatusCode, 0);
  await until(() => !f.manager.list().some((r) => r.Id === id), 10_000, 'removal');
  t.false(existsSync(join(f.manager.containersDir, id)));
});

test('env, user, working directory and hostname apply inside the container', async (t) => {
  const id = await run({
    Cmd: ['sh', '-c', 'echo "$GREETING $(id -u):$(id -g) $(pwd) $(hostname) $(cat /etc/hostname)"'],
    Env: ['GREETING=hello'],
    User: 'app',
    WorkingDir: '/tmp/work',
    Hostname: 'web-1',
  });
  t.is((await wait(id)).StatusCode, 0);
  t.is(f.logs(id), 'hello 1000:1000 /tmp/work web-1 web-1\n');
  const cfg = f.manager.get(id).Config;
  t.true(cfg.Env.includes('GREETING=hello'));
  t.true(cfg.Env.some((e) => e.startsWith('PATH=')));
});

test('a 16 MiB memory limit: a process allocating more is OOM-killed, reported with 137', async (t) => {
  const id = await run({
    Cmd: ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\000" a); echo survived ${#x}'],
    HostConfig: { Memory: 16 * 1024 * 1024 },
  });
  const r = await wait(id);
  t.is(r.StatusCode, 137);
  t.true(r.OOMKilled);
  t.true(f.manager.get(id).State.OOMKilled);
  t.false(f.logs(id).includes('survived'));
});

test('pids limit, read-only root, CPU quota and shares are enforced through cgroups', async (t) => {
  const forks = await run({
    Cmd: [
      'sh',
      '-c',
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do sleep 2 & done; wait; echo finished',
    ],
    HostConfig: { PidsLimit: 6 },
  });
  await wait(forks);
  t.regex(f.logs(forks), /can't fork|Resource temporarily unavailable/);
  const ro = await run({
    Cmd: ['sh', '-c', 'touch /newfile && echo wrote || echo refused'],
    HostConfig: { ReadonlyRootfs: true },
  });
  await wait(ro);
  t.true(f.logs(ro).includes('Read-only file system'));
  t.true(f.logs(ro).includes('refused'));
  const cpu = await run({
    Cmd: ['sleep', '30'],
    HostConfig: { NanoCpus: 500_000_000, CpuShares: 512, Memory: 64 << 20 },
  });
  const [cpuDir] = cgroupDirs(`tss/${cpu}`).filter((d) => d.includes('/cpu/') || d.includes('/cpu,cpuacct/'));
  if (cpuDir) {
    t.is(readFileSync(join(cpuDir, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
    t.is(readFileSync(join(cpuDir, 'cpu.shares'), 'utf8').trim(), '512');
  } else {
    t.is(readFileSync(`/sys/fs/cgroup/tss/${cpu}/cpu.max`, 'utf8').trim(), '50000 100000');
  }
  await f.manager.remove(cpu, { force: true });
  t.deepEqual(cgroupDirs(`tss/${cpu}`), [], 'cgroup removed with the container');
});

test('a named volume persists across container re-creation; bind (ro) and tmpfs mounts', async (t) => {
  const vol = uniqueName();
  const w = await run({
    Cmd: ['sh', '-c', 'echo kept > /data/file'],
    HostConfig: { Binds: [`${vol}:/data`] },
  });
  t.is((await wait(w)).StatusCode, 0);
  await f.manager.remove(w);
  t.true(existsSync(join(f.dir.path, 'volumes', vol, '_data', 'file')), 'volume under <data-root>/volumes');
  const host = join(f.dir.path, 'host-dir');
  mkdirSync(host);
  writeFileSync(join(host, 'in'), 'from host\n');
  const r = await run({
    Cmd: [
      'sh',
      '-c',
      'cat /data/file /host/in; touch /host/x || echo ro-bind; grep " /scratch tmpfs" /proc/mounts | cut -d" " -f3',
    ],
    HostConfig: {
      Mounts: [
        { Type: 'volume', Source: vol, Target: '/data' },
        { Type: 'bind', Source: host, Target: '/host', ReadOnly: true },
      ],
      Tmpfs: { '/scratch': 'size=1m' },
    },
  });
  t.is((await wait(r)).StatusCode, 0);
  t.is(
    f
      .logs(r)
      .split('\n')
      .filter((l) => !l.includes('Read-only'))
      .join('\n'),
    'kept\nfrom host\nro-bind\ntmpfs\n',
  );
  t.deepEqual(
    f.manager.get(r).Mounts.map((m) => `${m.Type}:${m.Destination}:${m.RW}`),
    ['volume:/data:true', 'bind:/host:false', 'tmpfs:/scratch:true'],
  );
});

test('capabilities drop and add; network none has loopback only, host sees the node interfaces', async (t) => {
  const drop = await run({
    Cmd: ['sh', '-c', 'chown 1000 /tmp && echo chowned || echo denied'],
    HostConfig: { CapDrop: ['CHOWN'] },
  });
  await wait(drop);
  t.regex(f.logs(drop), /denied/);
  const caps = await run({
    Cmd: ['sh', '-c', 'grep CapEff /proc/self/status'],
    HostConfig: { CapAdd: ['NET_ADMIN'] },
  });
  await wait(caps);
  const eff = BigInt(`0x${f.logs(caps).trim().split(/\s+/)[1]}`);
  t.true((eff & (1n << 12n)) !== 0n, 'CAP_NET_ADMIN (12) effective');
  const none = await run({ Cmd: ['sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "'] });
  await wait(none);
  t.is(f.logs(none), 'lo\n');
  const host = await run({
    Cmd: ['sh', '-c', 'tail -n +3 /proc/net/dev | wc -l'],
    HostConfig: { NetworkMode: 'host' },
  });
  await wait(host);
  const hostIfaces = readFileSync('/proc/net/dev', 'utf8').trim().split('\n').length - 2;
  t.is(Number(f.logs(host).trim()), hostIfaces);
});

test('stop: a SIGTERM trap exits cleanly within the grace period; an ignored SIGTERM is SIGKILLed after it', async (t) => {
  const trap = await run({
    Cmd: ['sh', '-c', 'trap "echo bye; exit 0" TERM; echo ready; while true; do sleep 0.1; done'],
  });
  await until(() => f.logs(trap).includes('ready'), 10_000, 'ready');
  let t0 = Date.now();
  await f.manager.stopContainer(trap, { timeoutSeconds: 10 });
  t.true(Date.now() - t0 < 5000);
  t.is(f.manager.get(trap).State.ExitCode, 0);
  t.true(f.logs(trap).includes('bye'));
  const stubborn = await run({
    Cmd: ['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done'],
  });
  await until(() => f.logs(stubborn).includes('ready'), 10_000, 'ready');
  t0 = Date.now();
  await f.manager.stopContainer(stubborn, { timeoutSeconds: 1 });
  const took = Date.now() - t0;
  t.true(took >= 1000 && took < 8000, `took ${took} ms`);
  t.is(f.manager.get(stubborn).State.ExitCode, 137);
  // restart runs it again; kill with a signal the trap handles.
  await f.manager.restart(trap, 1);
  t.true(f.manager.get(trap).State.Running);
  await until(() => f.logs(trap).split('ready').length > 2, 10_000, 'second ready');
  await f.manager.kill(trap, 'TERM');
  t.is((await wait(trap)).StatusCode, 0);
});

test('a container whose conmon was killed is still seen to end (exit code unknown: 255)', async (t) => {
  const id = await run({ Cmd: ['sleep', '30'] });
  const conmon = Number(readFileSync(join(f.manager.dirOf(id), 'conmon.pid'), 'utf8'));
  process.kill(conmon, 'SIGKILL');
  await new Promise((r) => setTimeout(r, 1500));
  t.true(f.manager.get(id).State.Running, 'the container itself still runs');
  await runcKill(f.manager.env, id, 'SIGKILL');
  const r = await f.manager.wait(id);
  t.is(r.StatusCode, 255);
  t.false(f.manager.get(id).State.Running);
});

test('exec runs in the container with its environment; exit codes come back', async (t) => {
  const id = await run({ Cmd: ['sleep', '30'], Env: ['WHO=ctr'] });
  const r = await f.manager.exec(id, {
    argv: ['sh', '-c', 'echo $WHO $(id -u) $EXTRA; exit 5'],
    env: ['EXTRA=x'],
    user: 'app',
  });
  t.is(r.exitCode, 5);
  t.is(r.stdout, 'ctr 1000 x\n');
  t.is((await f.manager.exec(id, { argv: ['nope'] })).exitCode, 127);
  await f.manager.remove(id, { force: true });
});

test('health check: starting → healthy, unhealthy when the probe fails, healthy again; last 5 results kept', async (t) => {
  const id = await run({
    Cmd: ['sleep', '60'],
    Healthcheck: {
      Test: ['CMD-SHELL', 'test ! -e /tmp/sick && echo fine'],
      Interval: 200e6,
      Timeout: 2e9,
      Retries: 2,
    },
  });
  t.is(f.manager.get(id).State.Health?.Status, 'starting');
  const health = () => f.manager.get(id).State.Health!;
  await until(() => health().Status === 'healthy', 10_000, 'healthy');
  t.is(health().Log.at(-1)!.Output, 'fine\n');
  await f.manager.exec(id, { argv: ['touch', '/tmp/sick'] });
  await until(() => health().Status === 'unhealthy', 10_000, 'unhealthy');
  t.true(health().FailingStreak >= 2);
  await until(() => health().Log.length === 5, 10_000, 'five results');
  await new Promise((r) => setTimeout(r, 500));
  t.is(health().Log.length, 5);
  await f.manager.exec(id, { argv: ['rm', '/tmp/sick'] });
  await until(() => health().Status === 'healthy', 10_000, 'healthy again');
  t.is(health().FailingStreak, 0);
  await f.manager.remove(id, { force: true });
});

test('health check: failures in the start period keep it starting; a probe over its timeout fails', async (t) => {
  const id = await run({
    Cmd: ['sleep', '60'],
    Healthcheck: {
      Test: ['CMD', 'sleep', '5'],
      Interval: 200e6,
      Timeout: 200e6,
      Retries: 1,
      StartPeriod: 1500e6,
    },
  });
  const health = () => f.manager.get(id).State.Health!;
  await until(() => health().Log.length >= 1, 10_000, 'a probe');
  t.is(health().Status, 'starting');
  t.is(health().Log[0]!.ExitCode, -1);
  t.regex(health().Log[0]!.Output, /Health check exceeded timeout \(0.2s\)/);
  await until(() => health().Status === 'unhealthy', 10_000, 'unhealthy after the start period');
  await f.manager.remove(id, { force: true });
});

test('log rotation: max-size and max-file are honoured; the newest lines are kept in order', async (t) => {
  const id = await run({
    Cmd: [
      'sh',
      '-c',
      'i=0; while [ $i -lt 150 ]; do i=$((i+1)); echo "line $i padding-padding-padding-padding"; sleep 0.02; done',
    ],
    HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-size': '2k', 'max-file': '3' } } },
  });
  await wait(id);
  const dir = f.manager.dirOf(id);
  const files = readdirSync(dir).filter((n) => n.startsWith('container.log'));
  t.deepEqual(files.sort(), ['container.log', 'container.log.1', 'container.log.2']);
  for (const n of files) t.true(statSync(join(dir, n)).size < 4 * 1024, `${n} stays near max-size`);
  const nums = f
    .logs(id)
    .trim()
    .split('\n')
    .map((l) => Number(l.split(' ')[1]));
  t.is(nums.at(-1), 150);
  t.true(nums[0]! > 1, 'the oldest lines were rotated away');
  t.deepEqual(
    nums,
    nums.map((_, i) => nums[0]! + i),
    'no line lost or reordered within what is kept',
  );
});

test.serial('bad input is refused with precise messages and leaves nothing on disk', async (t) => {
  const vol = uniqueName();
  const bad = async (body: object, msg: RegExp, name?: string) => {
    const err = await t.throwsAsync(
      f.manager.create({ Image: 'busybox:local', Cmd: ['true'], ...body }, name),
    );
    t.regex(err!.message, msg);
  };
  await bad({ Image: 'Bad/Ref' }, /invalid reference format/);
  await bad({ Image: 'tss-missing:1' }, /No such image: tss-missing:1/);
  await bad({ HostConfig: { Memory: -1 } }, /Minimum memory limit allowed is 6MB/);
  await bad({ HostConfig: { CpuShares: -2 } }, /invalid CpuShares/);
  await bad({ HostConfig: { PidsLimit: -5 } }, /invalid PidsLimit/);
  await bad(
    { HostConfig: { Binds: [`${uniqueName()}:/ok`, 'nocolon'] } },
    /invalid volume specification: 'nocolon'/,
  );
  await bad(
    { HostConfig: { Mounts: [{ Type: 'bind', Source: '/tss-no-such-dir', Target: '/x' }] } },
    /bind source path does not exist/,
  );
  await bad(
    { HostConfig: { Mounts: [{ Type: 'volume', Source: 'v', Target: 'relative' }] } },
    /mount path must be absolute/,
  );
  await bad(
    { HostConfig: { Mounts: [{ Type: 'tmpfs', Source: '/x', Target: '/t' }] } },
    /field Source must not be specified/,
  );
  await bad({ HostConfig: { CapAdd: ['CAP_BOGUS'] } }, /unknown capability: "CAP_BOGUS"/);
  await bad({ HostConfig: { NetworkMode: 'tss-nonet' } }, /network tss-nonet not found/);
  await bad(
    { HostConfig: { LogConfig: { Type: 'json-file', Config: { 'max-file': '0' } } } },
    /max-file cannot be less than 1/,
  );
  await bad({ User: 'nobody-here' }, /unable to find user nobody-here/);
  await bad({}, /Invalid container name/, 'bad name!');
  await bad({ Cmd: [] }, /no command specified/i);
  // Other tests run alongside: every directory left must belong to a live record.
  const known = new Set(f.manager.list().map((r) => r.Id));
  t.deepEqual(
    readdirSync(f.manager.containersDir).filter((d) => !known.has(d)),
    [],
    'no container directory left',
  );
  t.false(existsSync(join(f.dir.path, 'volumes', vol)), 'no volume left by a failed create');
  t.throws(() => f.manager.get('tss-unknown'), { message: 'No such container: tss-unknown' });
  const running = await run({ Cmd: ['sleep', '30'] });
  const name = f.manager.get(running).Name;
  await bad({}, /is already in use by container/, name);
  await t.throwsAsync(f.manager.remove(running), {
    message: /container is running: stop the container before removing or force remove/,
  });
  await t.throwsAsync(f.manager.kill(running, 'SIGNOPE'), { message: 'Invalid signal: SIGNOPE' });
  await f.manager.remove(running, { force: true });
  const exited = await run({ Cmd: ['true'] });
  await wait(exited);
  await t.throwsAsync(f.manager.kill(exited), { message: /is not running/ });
});

test.after('nothing is left behind: no runc containers, mounts or cgroups once removed', async (t) => {
  for (const r of f.manager.list()) await f.manager.remove(r.Id, { force: true });
  t.deepEqual(f.manager.list(), []);
  const runcDir = join(f.dir.path, 'runc');
  t.deepEqual(existsSync(runcDir) ? readdirSync(runcDir) : [], []);
  const mounts = readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .filter((l) => l.includes(f.dir.path));
  t.deepEqual(mounts, []);
  for (const id of made) t.deepEqual(cgroupDirs(`tss/${id}`), [], id);
});
