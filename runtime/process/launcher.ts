// Child processes started from helper threads. Node's spawn is synchronous up to the child's exec (libuv reads
// the child's exec-error pipe), and on a node busy starting containers that wait reaches tens of ms per child
// (measured: p50 18 ms, p95 41 ms for conmon at 8 starts in flight). On the daemon's own thread that stalls
// every session, watch and API call; on a launcher thread it stalls nothing else.
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { THREAD_SOURCE } from './thread-source.js';

export interface LaunchOptions {
  cwd?: string;
  /** The whole environment of the child; the daemon's own when left out. */
  env?: NodeJS.ProcessEnv;
  /** Its own process group, as spawn's `detached`: a daemon of its own (conmon) that outlives us. */
  detached?: boolean;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Uint8Array;
  /** Pipe stdout back (default true); false sends it to /dev/null. */
  stdout?: boolean;
}

type ThreadEvent =
  | { id: number; ev: 'spawn'; pid: number }
  | { id: number; ev: 'out' | 'err'; data: Uint8Array }
  | { id: number; ev: 'error'; message: string; code?: string }
  | { id: number; ev: 'close'; code: number | null; signal: NodeJS.Signals | null };

/**
 * A child process on a launcher thread. Events: 'spawn' (pid), 'stdout' and 'stderr' (Buffer), 'error'
 * (Error with `code`, e.g. ENOENT: it never ran), 'close' (exit code, signal).
 */
export class LaunchedChild extends EventEmitter {
  pid?: number;
  exitCode: number | null = null;
  constructor(
    private readonly thread: LauncherThread,
    readonly id: number,
  ) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.thread.worker.postMessage({ op: 'kill', id: this.id, signal });
  }
}

class LauncherThread {
  // No inherited node flags: the thread needs no loader, and e.g. --input-type=module would make it ESM.
  readonly worker = new Worker(THREAD_SOURCE, { eval: true, execArgv: [] });
  readonly children = new Map<number, LaunchedChild>();
  /** Spawns asked for and not yet acknowledged: the thread is blocked in one of them. */
  spawning = 0;
  /** Children whose end someone waits for; the thread keeps the process alive while there are any. */
  private waited = 0;

  constructor() {
    this.worker.unref();
    this.worker.on('message', (m: ThreadEvent) => this.onEvent(m));
    // A thread that died takes no more work; its children's waiters hear of it.
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', () => this.fail(new Error('launcher thread exited')));
  }

  private fail(err: Error): void {
    const i = threads.indexOf(this);
    if (i >= 0) threads.splice(i, 1);
    for (const c of this.children.values()) if (c.listenerCount('error') > 0) c.emit('error', err);
    this.children.clear();
  }

  launch(id: number, file: string, args: string[], o: LaunchOptions): LaunchedChild {
    const child = new LaunchedChild(this, id);
    this.children.set(id, child);
    this.spawning++;
    if (!o.detached && this.waited++ === 0) this.worker.ref();
    this.worker.postMessage({
      op: 'spawn',
      id,
      file,
      args,
      cwd: o.cwd,
      env: o.env,
      detached: o.detached ?? false,
      stdin: o.input ?? null,
      stdout: o.stdout ?? true,
    });
    if (o.detached) {
      // Held until the spawn is acknowledged; later output of the daemon does not keep us alive.
      this.worker.ref();
      child.once('spawn', () => this.worker.unref());
      child.once('error', () => this.worker.unref());
    } else {
      const done = () => {
        if (--this.waited === 0) this.worker.unref();
      };
      child.once('close', done);
      child.once('error', done);
    }
    return child;
  }

  private onEvent(m: ThreadEvent): void {
    const child = this.children.get(m.id);
    if (!child) return;
    switch (m.ev) {
      case 'spawn':
        this.spawning--;
        child.pid = m.pid;
        child.emit('spawn', m.pid);
        break;
      case 'out':
        child.emit('stdout', Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        break;
      case 'err':
        child.emit('stderr', Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
        break;
      case 'error': {
        if (child.pid === undefined) this.spawning--;
        this.children.delete(m.id);
        const err = Object.assign(new Error(m.message), { code: m.code });
        // Nobody listening for 'error' must not become an uncaught exception: callers that care listen.
        if (child.listenerCount('error') > 0) child.emit('error', err);
        break;
      }
      case 'close':
        this.children.delete(m.id);
        child.exitCode = m.code;
        child.emit('close', m.code, m.signal);
        break;
    }
  }
}

const MAX_THREADS = Math.min(4, Math.max(2, availableParallelism()));
const threads: LauncherThread[] = [];
let nextId = 1;

/** The least busy thread; a new one while every thread is inside a spawn and the pool is not full. */
function pick(): LauncherThread {
  let best = threads[0];
  for (const t of threads) if (best === undefined || t.spawning < best.spawning) best = t;
  if (best === undefined || (best.spawning > 0 && threads.length < MAX_THREADS)) {
    best = new LauncherThread();
    threads.push(best);
  }
  return best;
}

/** Starts `file` with `args` on a launcher thread. */
export function launch(file: string, args: string[], o: LaunchOptions = {}): LaunchedChild {
  return pick().launch(nextId++, file, args, o);
}
