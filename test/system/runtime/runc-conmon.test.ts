// Real containers: runc under conmon on an overlayfs root over a busybox image directory.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  buildOciSpec,
  createUnderConmon,
  exitCode,
  mergeEnv,
  parseK8sLog,
  resolveUser,
  runcDelete,
  runcKill,
  runcList,
  runcStart,
  runcState,
  cgroupDirs,
  removeIdleCgroupParent,
  wasOomKilled,
  type ContainerConfig,
  type RuncEnv,
} from '../../../runtime/index.js';
import { buildBusyboxRootfs, mountOverlayRoot } from '../../support/busybox-rootfs.js';
import { tempDir } from '../../support/temp.js';
import { unmountUnder } from '../../../deploy/lab/index.js';

const dir = tempDir();
const image = buildBusyboxRootfs(join(dir.path, 'image'));
const env: RuncEnv = { root: join(dir.path, 'runc') };
const made: string[] = [];

interface Ctr {
  id: string;
  bundle: string;
  log: string;
  exits: string;
}

async function run(argv: string[], o: Partial<ContainerConfig> & { userSpec?: string } = {}): Promise<Ctr> {
  const id = `tss-${randomBytes(4).toString('hex')}`;
  made.push(id);
  const bundle = join(dir.path, 'containers', id);
  mountOverlayRoot(image, bundle);
  const user = resolveUser(
    o.userSpec,
    readFileSync(join(image, 'etc/passwd'), 'utf8'),
    readFileSync(join(image, 'etc/group'), 'utf8'),
  );
  const hostname = o.hostname ?? id.slice(0, 12);
  const spec = buildOciSpec({
    ...o,
    rootfs: join(bundle, 'rootfs'),
    argv,
    env: mergeEnv([], o.env, hostname),
    user,
    hostname,
    network: o.network ?? 'none',
    cgroupsPath: `/tss/${id}`,
  });
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
  const c = { id, bundle, log: join(bundle, 'ctr.log'), exits: join(bundle, 'exits') };
  await createUnderConmon(env, {
    id,
    bundle,
    logPath: c.log,
    exitDir: c.exits,
    socketDir: join(bundle, 's'),
  });
  await runcStart(env, id);
  return c;
}

async function waitExit(c: Ctr, ms = 20_000): Promise<number> {
  const deadline = Date.now() + ms;
  for (;;) {
    const code = await exitCode(c.exits, c.id);
    if (code !== undefined) return code;
    if (Date.now() > deadline) throw new Error(`container ${c.id} did not exit`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const logText = (c: Ctr) =>
  (existsSync(c.log) ? parseK8sLog(readFileSync(c.log, 'utf8')) : []).map((l) => l.text).join('');

test.after.always(async () => {
  for (const id of made) await runcDelete(env, id, true).catch(() => undefined);
  await unmountUnder(dir.path);
  removeIdleCgroupParent();
  dir.remove();
});

test.after('nothing is left behind: runc containers, conmon processes, cgroups', async (t) => {
  for (const id of made) await runcDelete(env, id, true).catch(() => undefined);
  t.deepEqual(await runcList(env), []);
  for (const id of made) t.deepEqual(cgroupDirs(`tss/${id}`), [], id);
  const deadline = Date.now() + 5000;
  const conmons = () =>
    execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.startsWith('/usr/bin/conmon') && made.some((id) => l.includes(id)));
  while (conmons().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(conmons(), []);
});

test('echo hi: output in the log, exit codes recorded', async (t) => {
  const ok = await run(['echo', 'hi']);
  t.is(await waitExit(ok), 0);
  t.is(logText(ok), 'hi\n');
  const bad = await run(['sh', '-c', 'echo oops >&2; exit 3']);
  t.is(await waitExit(bad), 3);
  t.true(readFileSync(bad.log, 'utf8').includes(' stderr F oops'));
});

test('env, user, working directory and hostname apply inside the container', async (t) => {
  const c = await run(['sh', '-c', 'echo "$GREETING $(id -u):$(id -g) $(pwd) $(hostname)"'], {
    env: ['GREETING=hello'],
    userSpec: 'app',
    cwd: '/tmp',
    hostname: 'web-1',
  });
  t.is(await waitExit(c), 0);
  t.is(logText(c), 'hello 1000:1000 /tmp web-1\n');
});

test('a 16 MiB memory limit: a process allocating more is OOM-killed with 137', async (t) => {
  const c = await run(['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\000" a); echo survived ${#x}'], {
    memory: 16 * 1024 * 1024,
  });
  t.is(await waitExit(c), 137);
  t.false(logText(c).includes('survived'));
  t.true(wasOomKilled(c.bundle), 'conmon recorded the OOM kill');
  const oomControl = `/sys/fs/cgroup/memory/tss/${c.id}/memory.oom_control`;
  if (existsSync(oomControl)) t.regex(readFileSync(oomControl, 'utf8'), /oom_kill [1-9]/);
  else t.regex(readFileSync(`/sys/fs/cgroup/tss/${c.id}/memory.events`, 'utf8'), /oom_kill [1-9]/);
});

test('pids limit and read-only root are enforced', async (t) => {
  const forks = await run(
    [
      'sh',
      '-c',
      'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do sleep 2 & done; wait; echo finished',
    ],
    { pids: 8 },
  );
  await waitExit(forks);
  t.regex(logText(forks), /can't fork|Resource temporarily unavailable/);
  const ro = await run(['sh', '-c', 'touch /newfile && echo wrote || echo refused'], {
    readonlyRootfs: true,
  });
  t.is(await waitExit(ro), 0);
  // stdout and stderr are separate pipes: their relative order is not preserved.
  t.true(logText(ro).includes('touch: /newfile: Read-only file system\n'));
  t.true(logText(ro).includes('refused\n'));
});

test('signals: a SIGTERM trap exits cleanly; an ignored SIGTERM needs SIGKILL', async (t) => {
  const trap = await run([
    'sh',
    '-c',
    'trap "echo bye; exit 0" TERM; echo ready; while true; do sleep 0.1; done',
  ]);
  while (!logText(trap).includes('ready')) await new Promise((r) => setTimeout(r, 20));
  await runcKill(env, trap.id, 'SIGTERM');
  t.is(await waitExit(trap), 0);
  t.true(logText(trap).includes('bye'));
  const stubborn = await run(['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 0.1; done']);
  while (!logText(stubborn).includes('ready')) await new Promise((r) => setTimeout(r, 20));
  await runcKill(env, stubborn.id, 'SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  t.is((await runcState(env, stubborn.id))?.status, 'running');
  await runcKill(env, stubborn.id, 'SIGKILL');
  t.is(await waitExit(stubborn), 137);
});

test('containers and their conmon outlive the process that started them', async (t) => {
  const c = await run(['sh', '-c', 'echo up; sleep 30']);
  const conmonPid = Number(readFileSync(join(c.bundle, 'conmon.pid'), 'utf8'));
  // conmon is a session leader of its own, not our child: it would survive our exit.
  const ppid = Number(readFileSync(`/proc/${conmonPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
  t.not(ppid, process.pid);
  t.is((await runcState(env, c.id))?.status, 'running');
  t.true((await runcList(env)).some((s) => s.id === c.id));
  await runcKill(env, c.id, 'SIGKILL');
  t.is(await waitExit(c), 137);
  await runcDelete(env, c.id);
  t.is(await runcState(env, c.id), undefined);
  t.false(existsSync(`/sys/fs/cgroup/memory/tss/${c.id}`), 'runc removed the cgroup');
});
