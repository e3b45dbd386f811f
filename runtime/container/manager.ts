// The node's container manager: create/start/stop/kill/restart/remove/wait/exec over runc under conmon, records
// under <data-root>/containers/<id>/, re-adoption of containers conmon kept running while the daemon was down,
// health checks and Docker-style log rotation.
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import {
  Conflict,
  InvalidArgument,
  Limiter,
  NotFound,
  parseReference,
  type Logger,
} from '../../api/index.js';
import type { ImageResolver } from '../image/types.js';
import { processAlive } from '../process/index.js';
import { prepareBundle, userOf } from './bundle.js';
import { checkCreateBody, checkName, parseSignal, type CreateBody } from './create-request.js';
import { runcExec, type ExecOptions, type ExecResult } from './exec.js';
import { startThroughFifo } from './fifo-start.js';
import { HealthMonitor, probeArgv } from './health.js';
import { logSize, rotateLog } from './log-files.js';
import { unmountFiles, type ContainerFile } from './memory-files.js';
import { removeCreatedVolumes, VolumeDirs } from './mounts.js';
import { randomName } from './names.js';
import { isMounted, rootfsOf, mountRootfs, unmountRootfs } from './rootfs.js';
import {
  createUnderConmon,
  exitCode,
  runcDelete,
  runcKill,
  runcList,
  runcStart,
  runcState,
  wasOomKilled,
  type RuncEnv,
} from './runc.js';
import { loadRecords, saveRecord, ZERO_TIME, type ContainerRecord } from './state-files.js';

export interface ContainerManagerOptions {
  dataRoot: string;
  images: ImageResolver;
  log: Logger;
  runc?: string;
  conmon?: string;
  /** How often live logs are checked against max-size (ms). */
  rotateCheckMs?: number;
}

export interface WaitResult {
  StatusCode: number;
  Error: { Message: string } | null;
  OOMKilled: boolean;
}

type WaitCondition = 'not-running' | 'next-exit' | 'removed';

interface Entry {
  rec: ContainerRecord;
  dir: string;
  lock: Promise<unknown>;
  health?: HealthMonitor;
  watcher?: FSWatcher;
  poll?: NodeJS.Timeout;
  exitWaiters: ((r: WaitResult) => void)[];
  removeWaiters: ((r: WaitResult) => void)[];
  /** conmon's pid for the current run, read once by the exit watch. */
  conmonPid?: number;
}

/** Raised by start/stop when the container already is in the asked state (HTTP 304, as Docker). */
export class NotModified extends Error {}

/** The pid of the conmon that monitors the container in `bundle` (0 when its pid file is not there). */
function conmonPid(bundle: string): number {
  try {
    return Number(readFileSync(join(bundle, 'conmon.pid'), 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** runc creates and starts in flight at once: beyond a few per core they only slow each other past runc's deadline. */
const CONCURRENT_STARTS = Number(process.env.TSS_STARTS ?? 2) * Math.max(1, availableParallelism());

export class ContainerManager {
  readonly env: RuncEnv;
  private readonly starts = new Limiter(CONCURRENT_STARTS);
  readonly containersDir: string;
  private readonly volumes: VolumeDirs;
  private readonly entries = new Map<string, Entry>();
  private readonly names = new Map<string, string>();
  private rotateTimer?: NodeJS.Timeout;
  private started = false;

  constructor(private readonly o: ContainerManagerOptions) {
    this.env = { root: join(o.dataRoot, 'runc'), runc: o.runc, conmon: o.conmon };
    this.containersDir = join(o.dataRoot, 'containers');
    this.volumes = new VolumeDirs(join(o.dataRoot, 'volumes'));
  }

  // ---- life of the manager ----

  /** Loads every record and reconciles it with runc and conmon's exit files (re-adoption). */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    mkdirSync(this.containersDir, { recursive: true, mode: 0o700 });
    const { records, orphans } = loadRecords(this.containersDir);
    for (const id of orphans) await this.discardDir(join(this.containersDir, id));
    for (const rec of records) {
      const e = this.register(rec);
      await this.reconcile(e).catch((err: Error) =>
        this.o.log.error('re-adopting container failed', { container: rec.Id, err: err.message }),
      );
    }
    // runc containers of ours without a record: leftovers of a create that died half-way.
    for (const s of await runcList(this.env).catch(() => [])) {
      if (!this.entries.has(s.id)) await runcDelete(this.env, s.id, true).catch(() => undefined);
    }
    this.rotateTimer = setInterval(() => this.rotateLogs(), this.o.rotateCheckMs ?? 250);
    this.rotateTimer.unref();
  }

  /** Stops watching; containers keep running under conmon (live restore). */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    if (this.rotateTimer) clearInterval(this.rotateTimer);
    for (const e of this.entries.values()) this.unwatch(e);
    await Promise.all([...this.entries.values()].map((e) => e.lock.catch(() => undefined)));
  }

  private register(rec: ContainerRecord): Entry {
    const e: Entry = {
      rec,
      dir: join(this.containersDir, rec.Id),
      lock: Promise.resolve(),
      exitWaiters: [],
      removeWaiters: [],
    };
    this.entries.set(rec.Id, e);
    this.names.set(rec.Name, rec.Id);
    return e;
  }

  private async reconcile(e: Entry): Promise<void> {
    const { rec } = e;
    if (rec.State.Status === 'removing') return this.finishRemove(e);
    if (!rec.State.Running) {
      // A stopped container keeps nothing in runc.
      if (await runcState(this.env, rec.Id)) await runcDelete(this.env, rec.Id, true).catch(() => undefined);
      return;
    }
    if (existsSync(this.exitFile(e))) return this.handleExit(e);
    const s = await runcState(this.env, rec.Id);
    if (s?.status === 'running' || s?.status === 'paused') {
      rec.State.Pid = s.pid;
      this.o.log.info('re-adopted running container', { container: rec.Id, name: rec.Name, pid: s.pid });
      this.watch(e);
      this.startHealth(e);
      return;
    }
    if (s?.status === 'created') {
      await runcDelete(this.env, rec.Id, true).catch(() => undefined);
      return this.markExited(e, 128, 'the daemon stopped while the container was starting');
    }
    // Stopped or gone: conmon may still be writing the exit file.
    for (let i = 0; i < 20 && !existsSync(this.exitFile(e)); i++) await sleep(50);
    if (existsSync(this.exitFile(e))) return this.handleExit(e);
    await runcDelete(this.env, rec.Id, true).catch(() => undefined);
    return this.markExited(e, 255, 'container was not running when the daemon restarted');
  }

  // ---- lookups ----

  /** By full id, exact name (with or without "/"), or unique id prefix; Docker's "No such container". */
  private entry(ref: string): Entry {
    const byId = this.entries.get(ref);
    if (byId) return byId;
    const byName = this.names.get(ref.replace(/^\//, ''));
    if (byName) return this.entries.get(byName)!;
    if (/^[a-f0-9]+$/.test(ref)) {
      const hits = [...this.entries.keys()].filter((id) => id.startsWith(ref));
      if (hits.length === 1) return this.entries.get(hits[0]!)!;
      if (hits.length > 1) throw new InvalidArgument(`multiple IDs found with provided prefix: ${ref}`);
    }
    throw new NotFound(`No such container: ${ref}`);
  }

  get(ref: string): ContainerRecord {
    return this.entry(ref).rec;
  }

  /** Whether the container runs; false once it is gone (log followers stop on either). */
  isRunning(ref: string): boolean {
    try {
      return this.entry(ref).rec.State.Running;
    } catch {
      return false;
    }
  }

  list(): ContainerRecord[] {
    return [...this.entries.values()].map((e) => e.rec).sort((a, b) => b.Created.localeCompare(a.Created));
  }

  usesImage(imageId: string): boolean {
    return [...this.entries.values()].some((e) => e.rec.ImageID === imageId);
  }

  counts(): { total: number; running: number; paused: number; stopped: number } {
    const all = this.list();
    const running = all.filter((r) => r.State.Running).length;
    return { total: all.length, running, paused: 0, stopped: all.length - running };
  }

  dirOf(ref: string): string {
    return this.entry(ref).dir;
  }

  logPath(ref: string): string {
    return join(this.entry(ref).dir, 'container.log');
  }

  private exitDir(e: Entry): string {
    return join(e.dir, 'exits');
  }

  private exitFile(e: Entry): string {
    return join(this.exitDir(e), e.rec.Id);
  }

  /** Runs `fn` after every earlier operation on this container. */
  private serial<T>(e: Entry, fn: () => Promise<T>): Promise<T> {
    const next = e.lock.then(fn, fn);
    e.lock = next.catch(() => undefined);
    return next;
  }

  private save(e: Entry): void {
    if (existsSync(e.dir)) saveRecord(e.dir, e.rec);
  }

  // ---- create ----

  /**
   * `o.files`: files the container sees that are held in memory only (on a tmpfs until the container goes);
   * `o.netns`: a network namespace (path) prepared for it, joined instead of a fresh one.
   */
  async create(
    body: CreateBody,
    name?: string,
    o: { files?: ContainerFile[]; netns?: string } = {},
  ): Promise<{ Id: string; Warnings: string[] }> {
    if (!body || typeof body !== 'object')
      throw new InvalidArgument('Config cannot be empty in order to create a container');
    checkCreateBody(body);
    if (!/^(sha256:)?[a-f0-9]{12,64}$/.test(body.Image!)) parseReference(body.Image!);
    const wanted = name ? checkName(name) : this.freshName();
    const taken = this.names.get(wanted);
    if (taken)
      throw new Conflict(
        `Conflict. The container name "/${wanted}" is already in use by container "${taken}". You have to remove (or rename) that container to be able to reuse that name.`,
      );
    const image = await this.o.images.resolve(body.Image!);
    const id = randomBytes(32).toString('hex');
    const dir = join(this.containersDir, id);
    // Reserve the name while the bundle is prepared.
    this.names.set(wanted, id);
    const createdVolumes: string[] = [];
    mkdirSync(dir, { mode: 0o700 });
    try {
      const rec = await prepareBundle({
        id,
        name: wanted,
        dir,
        body,
        image,
        volumes: this.volumes,
        createdVolumes,
        files: o.files,
        netns: o.netns,
      });
      saveRecord(dir, rec);
      this.register(rec);
      const warnings: string[] = [];
      const mode = body.HostConfig?.NetworkMode || 'default';
      if (!o.netns && (mode === 'default' || mode === 'bridge'))
        warnings.push(
          'bridge networking is not available on this node yet: the container has loopback only (network none)',
        );
      return { Id: id, Warnings: warnings };
    } catch (err) {
      this.names.delete(wanted);
      await this.discardDir(dir);
      removeCreatedVolumes(createdVolumes);
      throw err;
    }
  }

  private freshName(): string {
    for (;;) {
      const n = randomName();
      if (!this.names.has(n)) return n;
    }
  }

  private async discardDir(dir: string): Promise<void> {
    await unmountFiles(dir);
    await unmountRootfs(dir);
    rmSync(dir, { recursive: true, force: true });
  }

  // ---- start ----

  startContainer(ref: string): Promise<void> {
    const e = this.entry(ref);
    return this.serial(e, () => this.startLocked(e));
  }

  private async startLocked(e: Entry): Promise<void> {
    const { rec } = e;
    if (rec.State.Running) throw new NotModified();
    if (rec.State.Status === 'removing')
      throw new Conflict(`container ${rec.Id} is marked for removal and cannot be started`);
    // Created containers have their root mounted already; a stopped one had it unmounted at exit.
    if (!isMounted(rootfsOf(e.dir))) {
      const image = await this.o.images.resolve(rec.ImageID).catch(() => undefined);
      if (!image) throw new Conflict(`the image ${rec.Config.Image} of container ${rec.Name} is gone`);
      await mountRootfs(e.dir, image.layerDirs);
    }
    rmSync(this.exitFile(e), { force: true });
    rmSync(join(e.dir, 'oom'), { force: true });
    // A leftover runc container of an earlier run (its state directory; cheaper than spawning `runc state`).
    if (existsSync(join(this.env.root, rec.Id)))
      await runcDelete(this.env, rec.Id, true).catch(() => undefined);
    const { maxSize, maxFile } = rec.Log;
    let pid: number;
    try {
      pid = await this.starts.run(async () => {
        const created = await createUnderConmon(this.env, {
          id: rec.Id,
          bundle: e.dir,
          logPath: join(e.dir, 'container.log'),
          exitDir: this.exitDir(e),
          socketDir: join(e.dir, 'sock'),
          // With one file, conmon's own cap does it (it truncates, as Docker's max-file=1). With more, we rotate:
          // conmon counts bytes since it started, not since a reopen, so its cap would truncate a fresh file.
          logSizeMax: maxSize && maxFile === 1 ? maxSize : undefined,
        });
        if (!(await startThroughFifo(this.env, rec.Id, created.pid))) await runcStart(this.env, rec.Id);
        return created.pid;
      });
    } catch (err) {
      await runcDelete(this.env, rec.Id, true).catch(() => undefined);
      const msg = (err as Error).message;
      const code = /executable file not found|no such file or directory/.test(msg)
        ? 127
        : /permission denied/.test(msg)
          ? 126
          : 128;
      this.markExited(e, code, msg);
      if (code !== 128) throw new InvalidArgument(`failed to create task for container: ${msg}`);
      throw err;
    }
    Object.assign(rec.State, {
      Status: 'running',
      Running: true,
      Pid: pid,
      ExitCode: 0,
      OOMKilled: false,
      Error: '',
      StartedAt: new Date().toISOString(),
      FinishedAt: ZERO_TIME,
    });
    if (probeArgv(rec.Config.Healthcheck))
      rec.State.Health = { Status: 'starting', FailingStreak: 0, Log: [] };
    this.save(e);
    this.watch(e);
    this.startHealth(e);
  }

  // ---- exits ----

  private watch(e: Entry): void {
    this.unwatch(e);
    mkdirSync(this.exitDir(e), { recursive: true });
    const check = () => {
      if (existsSync(this.exitFile(e)) && e.rec.State.Running) void this.handleExit(e);
    };
    try {
      e.watcher = watch(this.exitDir(e), check);
      e.watcher.on('error', () => undefined);
    } catch {
      // inotify unavailable: the poll below still sees the exit.
    }
    // conmon writes the exit file; if conmon itself was killed, the container's end is seen through runc.
    e.conmonPid = undefined;
    const conmonAlive = () => {
      e.conmonPid ||= conmonPid(e.dir);
      return !e.conmonPid || processAlive(e.conmonPid);
    };
    const orphanCheck = async () => {
      if (!e.rec.State.Running || conmonAlive() || existsSync(this.exitFile(e))) return;
      const s = await runcState(this.env, e.rec.Id).catch(() => undefined);
      if (s?.status === 'running' || s?.status === 'paused' || !e.rec.State.Running) return;
      this.o.log.warn('conmon is gone and the container stopped: exit code unknown', { container: e.rec.Id });
      await this.handleExit(e);
    };
    e.poll = setInterval(() => {
      check();
      void orphanCheck();
    }, 1000);
    e.poll.unref();
    check();
  }

  private unwatch(e: Entry): void {
    e.watcher?.close();
    e.watcher = undefined;
    if (e.poll) clearInterval(e.poll);
    e.poll = undefined;
    e.health?.stop();
    e.health = undefined;
  }

  private exiting = new Set<string>();

  private async handleExit(e: Entry): Promise<void> {
    if (this.exiting.has(e.rec.Id)) return;
    this.exiting.add(e.rec.Id);
    try {
      this.unwatch(e);
      const code = (await exitCode(this.exitDir(e), e.rec.Id)) ?? 255;
      const oom = wasOomKilled(e.dir);
      let finished = new Date();
      try {
        finished = statSync(this.exitFile(e)).mtime;
      } catch {
        // use now
      }
      await runcDelete(this.env, e.rec.Id, true).catch(() => undefined);
      await unmountRootfs(e.dir);
      Object.assign(e.rec.State, { OOMKilled: oom, FinishedAt: finished.toISOString() });
      this.markExited(e, code, '');
      if (e.rec.HostConfig.AutoRemove) void this.remove(e.rec.Id, { force: true }).catch(() => undefined);
    } finally {
      this.exiting.delete(e.rec.Id);
    }
  }

  private markExited(e: Entry, code: number, error: string): void {
    Object.assign(e.rec.State, { Status: 'exited', Running: false, Pid: 0, ExitCode: code, Error: error });
    if (e.rec.State.FinishedAt === ZERO_TIME) e.rec.State.FinishedAt = new Date().toISOString();
    this.save(e);
    const r = this.waitResult(e);
    for (const w of e.exitWaiters.splice(0)) w(r);
  }

  private waitResult(e: Entry): WaitResult {
    const s = e.rec.State;
    return { StatusCode: s.ExitCode, Error: s.Error ? { Message: s.Error } : null, OOMKilled: s.OOMKilled };
  }

  private nextExit(e: Entry, timeoutMs?: number): Promise<WaitResult | undefined> {
    return new Promise((resolve) => {
      const timer =
        timeoutMs !== undefined && timeoutMs >= 0
          ? setTimeout(() => resolve(undefined), timeoutMs)
          : undefined;
      e.exitWaiters.push((r) => {
        if (timer) clearTimeout(timer);
        resolve(r);
      });
    });
  }

  // ---- stop / kill / restart ----

  stopContainer(ref: string, o: { timeoutSeconds?: number; signal?: string } = {}): Promise<void> {
    const e = this.entry(ref);
    return this.serial(e, () => this.stopLocked(e, o));
  }

  private async stopLocked(e: Entry, o: { timeoutSeconds?: number; signal?: string }): Promise<void> {
    if (!e.rec.State.Running) throw new NotModified();
    const signal = parseSignal(o.signal || e.rec.Config.StopSignal || 'SIGTERM');
    const t = o.timeoutSeconds ?? e.rec.Config.StopTimeout ?? 10;
    const exited = this.nextExit(e, t < 0 ? undefined : t * 1000);
    await runcKill(this.env, e.rec.Id, signal).catch(() => undefined);
    if (await exited) return;
    this.o.log.info('container did not stop in time: SIGKILL', { container: e.rec.Id, graceSeconds: t });
    const killed = this.nextExit(e, 30_000);
    await runcKill(this.env, e.rec.Id, 'SIGKILL').catch(() => undefined);
    if (!(await killed)) throw new Conflict(`container ${e.rec.Id} did not exit after SIGKILL`);
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const e = this.entry(ref);
    const sig = parseSignal(signal);
    if (!e.rec.State.Running) throw new Conflict(`Container ${e.rec.Id} is not running`);
    const exited = sig === 'SIGKILL' ? this.nextExit(e, 30_000) : undefined;
    await runcKill(this.env, e.rec.Id, sig);
    // Docker returns from a SIGKILL once the container is gone.
    if (exited) await exited;
  }

  restart(ref: string, timeoutSeconds?: number): Promise<void> {
    const e = this.entry(ref);
    return this.serial(e, async () => {
      if (e.rec.State.Running) await this.stopLocked(e, { timeoutSeconds });
      await this.startLocked(e);
    });
  }

  // ---- wait ----

  async wait(ref: string, condition: string = 'not-running'): Promise<WaitResult> {
    if (!['not-running', 'next-exit', 'removed'].includes(condition))
      throw new InvalidArgument(`invalid condition: "${condition}"`);
    const e = this.entry(ref);
    const c = condition as WaitCondition;
    if (c === 'removed') return new Promise((resolve) => e.removeWaiters.push(resolve));
    if (c === 'not-running' && !e.rec.State.Running) return this.waitResult(e);
    return (await this.nextExit(e))!;
  }

  // ---- remove ----

  remove(ref: string, o: { force?: boolean } = {}): Promise<void> {
    const e = this.entry(ref);
    return this.serial(e, async () => {
      if (!this.entries.has(e.rec.Id)) return;
      if (e.rec.State.Running) {
        if (!o.force)
          throw new Conflict(
            `cannot remove container "/${e.rec.Name}": container is running: stop the container before removing or force remove`,
          );
        const exited = this.nextExit(e, 30_000);
        await runcKill(this.env, e.rec.Id, 'SIGKILL').catch(() => undefined);
        await exited;
      }
      e.rec.State.Status = 'removing';
      this.save(e);
      await this.finishRemove(e);
    });
  }

  private async finishRemove(e: Entry): Promise<void> {
    this.unwatch(e);
    await runcDelete(this.env, e.rec.Id, true).catch(() => undefined);
    await this.discardDir(e.dir);
    this.entries.delete(e.rec.Id);
    if (this.names.get(e.rec.Name) === e.rec.Id) this.names.delete(e.rec.Name);
    const r = this.waitResult(e);
    for (const w of [...e.exitWaiters.splice(0), ...e.removeWaiters.splice(0)]) w(r);
  }

  // ---- exec and health ----

  /** Runs a process in the running container; `user` is resolved against the container's /etc/passwd. */
  async exec(ref: string, o: Omit<ExecOptions, 'user'> & { user?: string }): Promise<ExecResult> {
    const e = this.entry(ref);
    if (!e.rec.State.Running) throw new Conflict(`Container ${e.rec.Id} is not running`);
    let user: string | undefined;
    if (o.user) {
      const u = userOf(rootfsOf(e.dir), o.user);
      user = `${u.uid}:${u.gid}`;
    }
    return runcExec(this.env, e.rec.Id, { ...o, user });
  }

  private startHealth(e: Entry): void {
    const cfg = e.rec.Config.Healthcheck;
    if (!cfg || !probeArgv(cfg) || !e.rec.State.Running) return;
    e.health?.stop();
    e.health = new HealthMonitor({
      config: cfg,
      startedAt: Date.parse(e.rec.State.StartedAt),
      initial: e.rec.State.Health,
      exec: (argv, timeoutMs) => runcExec(this.env, e.rec.Id, { argv, timeoutMs }),
      onUpdate: (state) => {
        if (!e.rec.State.Running) return;
        e.rec.State.Health = state;
        this.save(e);
      },
    });
    e.rec.State.Health = e.health.state;
    e.health.start();
  }

  // ---- logs ----

  private rotateLogs(): void {
    for (const e of this.entries.values()) {
      const { maxSize, maxFile } = e.rec.Log;
      if (!e.rec.State.Running || !maxSize || maxFile < 2) continue;
      const path = join(e.dir, 'container.log');
      if (logSize(path) < maxSize) continue;
      try {
        rotateLog(path, maxFile, e.dir);
      } catch (err) {
        this.o.log.warn('log rotation failed', { container: e.rec.Id, err: (err as Error).message });
      }
    }
  }
}
