// Children whose output is wanted live (runc exec behind `docker exec` and health probes), started from helper
// threads. Node's spawn is synchronous up to the child's exec (libuv reads the child's exec-error pipe); on a
// node busy starting containers that wait reaches tens of ms, which on a launcher thread stalls nothing else.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { LaunchedChild } from './child.js';
import { THREAD_SOURCE } from './thread-source.js';

type ThreadEvent =
  | { id: number; ev: 'spawn'; pid: number }
  | { id: number; ev: 'out' | 'err'; data: Uint8Array }
  | { id: number; ev: 'error'; message: string; code?: string }
  | { id: number; ev: 'close'; code: number | null; signal: NodeJS.Signals | null };

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
    this.worker.on('error', (err) => this.die(err));
    this.worker.on('exit', () => this.die(new Error('launcher thread exited')));
  }

  private die(err: Error): void {
    const i = threads.indexOf(this);
    if (i >= 0) threads.splice(i, 1);
    for (const c of this.children.values()) c.fail(err);
    this.children.clear();
  }

  launch(id: number, file: string, args: string[]): LaunchedChild {
    const child = new LaunchedChild((signal) => this.worker.postMessage({ op: 'kill', id, signal }));
    this.children.set(id, child);
    this.spawning++;
    if (this.waited++ === 0) this.worker.ref();
    const done = () => {
      if (--this.waited === 0) this.worker.unref();
    };
    child.once('close', done);
    child.once('error', done);
    this.worker.postMessage({ op: 'spawn', id, file, args });
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
      case 'err':
        child.emit(
          m.ev === 'out' ? 'stdout' : 'stderr',
          Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength),
        );
        break;
      case 'error':
        if (child.pid === undefined) this.spawning--;
        this.children.delete(m.id);
        child.fail(Object.assign(new Error(m.message), { code: m.code }));
        break;
      case 'close':
        this.children.delete(m.id);
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

/** Starts `file` with `args` (stdin /dev/null) on a launcher thread; its output arrives as it is written. */
export function launchStreaming(file: string, args: string[]): LaunchedChild {
  return pick().launch(nextId++, file, args);
}
