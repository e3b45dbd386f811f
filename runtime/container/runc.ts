// runc under conmon: one conmon per container holds its stdio, writes its log and exit code, and outlives us.
import { readFile } from 'node:fs/promises';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { join } from 'node:path';
import { Internal, NotFound } from '../../api/index.js';
import { launch, processAlive, resolveCommand, run, type RunError } from '../process/index.js';

export interface RuncEnv {
  /** runc's state directory: ours alone, so we never see or touch other runc users' containers. */
  root: string;
  runc?: string;
  conmon?: string;
}

export interface CreateOptions {
  id: string;
  bundle: string;
  /** k8s-file log path. */
  logPath: string;
  /** conmon writes <exitDir>/<id> with the exit code. */
  exitDir: string;
  /** conmon's attach/control sockets live here. */
  socketDir: string;
  logSizeMax?: number;
}

export type RuncStatus = 'creating' | 'created' | 'running' | 'paused' | 'stopped';

export interface RuncState {
  id: string;
  pid: number;
  status: RuncStatus;
  bundle: string;
}

/** Absolute path of a tool (conmon requires one for the runtime); sbin directories are searched too. */
function bin(env: RuncEnv, which: 'runc' | 'conmon'): string {
  const path = (which === 'runc' ? env.runc : env.conmon) ?? resolveCommand(which);
  if (!path) throw new Internal(`${which} not found: install it (scripts/setup does)`);
  return path;
}

/** Absolute path of the runc binary this environment uses. */
export function runcBinary(env: RuncEnv): string {
  return bin(env, 'runc');
}

async function runc(env: RuncEnv, args: string[]): Promise<string> {
  try {
    return (await run(bin(env, 'runc'), ['--root', env.root, ...args])).stdout;
  } catch (err) {
    const e = err as RunError;
    const msg = (e.stderr || e.message)
      .trim()
      .replace(/^time="[^"]*" level=\w+ msg="?/, '')
      .replace(/"$/, '');
    if (/does not exist|not found/.test(msg))
      throw new NotFound(`No such container: ${args[args.length - 1]}`);
    throw new Internal(`runc ${args[0]}: ${msg}`);
  }
}

export async function runcState(env: RuncEnv, id: string): Promise<RuncState | undefined> {
  try {
    return JSON.parse(await runc(env, ['state', id])) as RuncState;
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

export async function runcList(env: RuncEnv): Promise<RuncState[]> {
  if (!existsSync(env.root)) return [];
  const out = await runc(env, ['list', '--format', 'json']);
  return (JSON.parse(out || 'null') as RuncState[] | null) ?? [];
}

/** Creates the container under a new conmon and waits until runc reports it created. */
export async function createUnderConmon(
  env: RuncEnv,
  o: CreateOptions,
  timeoutMs = 15_000,
): Promise<RuncState> {
  mkdirSync(env.root, { recursive: true, mode: 0o700 });
  mkdirSync(o.exitDir, { recursive: true });
  mkdirSync(o.socketDir, { recursive: true });
  const args = [
    '--runtime',
    bin(env, 'runc'),
    '--runtime-arg',
    `--root=${env.root}`,
    '--runtime-arg',
    `--log=${join(o.bundle, 'runc.log')}`,
    '--cid',
    o.id,
    '--cuuid',
    o.id,
    '--name',
    o.id,
    '--bundle',
    o.bundle,
    '--log-path',
    `k8s-file:${o.logPath}`,
    '--exit-dir',
    o.exitDir,
    '--socket-dir-path',
    o.socketDir,
    '--container-pidfile',
    join(o.bundle, 'pid'),
    '--log-level',
    'error',
    // No daemonizing fork: the launcher already runs conmon in a session of its own and nobody waits for it (one
    // fork and exit fewer per container). conmon then writes no pid file of its own: the launcher's pid is it.
    '--sync',
    ...(o.logSizeMax ? ['--log-size-max', String(o.logSizeMax)] : []),
  ];
  rmSync(join(o.bundle, 'pid'), { force: true }); // a stale one from an earlier run of this bundle
  rmSync(join(o.bundle, 'conmon.pid'), { force: true });
  rmSync(join(o.bundle, 'runc.log'), { force: true }); // and the errors of an earlier failed create
  const child = launch(bin(env, 'conmon'), args, {
    detached: true,
    stderrFile: join(o.bundle, 'conmon.err'),
    cwd: o.bundle,
    // The C locale is built into glibc: conmon then reads no locale files at start.
    env: { LC_ALL: 'C' },
  });
  let spawnError = '';
  let wake: () => void = () => undefined;
  child.once('spawn', () => wake());
  child.on('error', (e: Error) => {
    spawnError = `conmon: ${e.message}`;
    wake();
  });
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  const pidFile = join(o.bundle, 'pid');
  // runc writes the pid file (tmp + rename) once the container is created, and its log only on an error. Wake on
  // those two names in the bundle directory's inotify events: conmon's own files there (fifos, log, stderr) would
  // each cost a round of checks, and many containers start at once. A slow poll is the safety net.
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(o.bundle, (_event, name) => {
      if (!name || name === 'pid' || name === 'runc.log') wake();
    });
    watcher.on('error', () => undefined);
  } catch {
    // no inotify: the poll below does it
  }
  try {
    for (;;) {
      if (existsSync(pidFile)) {
        // A few bytes, read at once: an async read queues on libuv's pool behind other starts' file work, which
        // under load delayed seeing the pid by ~50 ms.
        const pid = Number(readFileSync(pidFile, 'utf8').trim());
        if (pid > 0 && child.pid !== undefined) {
          writeFileSync(join(o.bundle, 'conmon.pid'), String(child.pid));
          return { id: o.id, pid, status: 'created', bundle: o.bundle };
        }
      }
      // runc logs nothing on success: an error line there means the create failed (conmon may not write an
      // exit file for a container that never started).
      const runcError = logSize(join(o.bundle, 'runc.log')) > 0 ? await runtimeError(o.bundle) : undefined;
      // Looked at on the slow poll only: every file runc and conmon make in the bundle wakes this loop.
      const conmonGone = timedOut && child.pid !== undefined && !processAlive(child.pid);
      if (
        spawnError ||
        runcError !== undefined ||
        conmonGone ||
        existsSync(join(o.exitDir, o.id)) ||
        Date.now() > deadline
      ) {
        // runc may have logged its error since the check above (the exit file can come first).
        const why =
          runcError ??
          (await runtimeError(o.bundle)) ??
          (spawnError || lastLine(join(o.bundle, 'conmon.err')));
        throw new Internal(`creating container ${o.id} failed${why ? `: ${why}` : ''}`);
      }
      timedOut = await new Promise<boolean>((r) => {
        const timer = setTimeout(() => r(true), watcher ? 100 : 2);
        wake = () => {
          clearTimeout(timer);
          r(false);
        };
      });
    }
  } finally {
    watcher?.close();
  }
}

function lastLine(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').pop() || undefined;
  } catch {
    return undefined;
  }
}

function logSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The last error runc logged for a bundle (its --log file), without runc's time/level prefix. */
async function runtimeError(bundle: string): Promise<string | undefined> {
  try {
    const lines = (await readFile(join(bundle, 'runc.log'), 'utf8'))
      .trim()
      .split('\n')
      .filter((l) => /level=(error|fatal)/.test(l));
    const last = lines.pop();
    return last
      ?.replace(/^.*msg="?/, '')
      .replace(/"$/, '')
      .replace(/\\"/g, '"');
  } catch {
    return undefined;
  }
}

export async function runcStart(env: RuncEnv, id: string): Promise<void> {
  await runc(env, ['start', id]);
}

export async function runcKill(env: RuncEnv, id: string, signal: string): Promise<void> {
  await runc(env, ['kill', id, signal.replace(/^SIG/, '')]);
}

export async function runcDelete(env: RuncEnv, id: string, force = false): Promise<void> {
  await runc(env, ['delete', ...(force ? ['--force'] : []), id]);
}

/** True when conmon saw the container's cgroup kill it for running out of memory. */
export function wasOomKilled(bundle: string): boolean {
  return existsSync(join(bundle, 'oom'));
}

/** The exit code conmon recorded, once the container has exited. */
export async function exitCode(exitDir: string, id: string): Promise<number | undefined> {
  try {
    return Number((await readFile(join(exitDir, id), 'utf8')).trim());
  } catch {
    return undefined;
  }
}
