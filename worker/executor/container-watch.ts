// Waiting on one container for what a task controller cares about: its exit, its health turning healthy or
// unhealthy, or the controller being interrupted (desired state changed, executor stopping). The container
// manager has no event stream, so exits come from its wait() and health from polling its record.
import { NotFound } from '../../api/index.js';
import type { ContainerManager, ContainerRecord } from '../../runtime/index.js';

export type ContainerEvent =
  | { kind: 'exited'; exitCode: number; oomKilled: boolean }
  | { kind: 'healthy' }
  | { kind: 'unhealthy' }
  | { kind: 'gone' }
  | { kind: 'interrupted' };

export interface WatchOptions {
  /** Resolve on health "healthy" (while starting). */
  healthy?: boolean;
  /** Resolve on health "unhealthy". */
  unhealthy?: boolean;
  pollMs: number;
  signal: AbortSignal;
}

export function record(containers: ContainerManager, id: string): ContainerRecord | undefined {
  try {
    return containers.get(id);
  } catch (err) {
    if (err instanceof NotFound) return undefined;
    throw err;
  }
}

function exitedEvent(rec: ContainerRecord): ContainerEvent {
  return { kind: 'exited', exitCode: rec.State.ExitCode, oomKilled: rec.State.OOMKilled };
}

/** Resolves with the first of: exit, the asked health states, removal, or the signal's abort. */
export function watchContainer(
  containers: ContainerManager,
  id: string,
  o: WatchOptions,
): Promise<ContainerEvent> {
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (e: ContainerEvent) => {
      if (done) return;
      done = true;
      if (timer) clearInterval(timer);
      o.signal.removeEventListener('abort', onAbort);
      resolve(e);
    };
    const onAbort = () => finish({ kind: 'interrupted' });
    const check = (): void => {
      const rec = record(containers, id);
      if (!rec) return finish({ kind: 'gone' });
      if (!rec.State.Running && rec.State.Status !== 'created') return finish(exitedEvent(rec));
      const health = rec.State.Health?.Status;
      if (o.healthy && health === 'healthy') return finish({ kind: 'healthy' });
      if (o.unhealthy && health === 'unhealthy') return finish({ kind: 'unhealthy' });
    };
    if (o.signal.aborted) return finish({ kind: 'interrupted' });
    o.signal.addEventListener('abort', onAbort);
    check();
    if (done) return;
    containers.wait(id).then(
      (r) => {
        const rec = record(containers, id);
        finish(rec ? exitedEvent(rec) : { kind: 'exited', exitCode: r.StatusCode, oomKilled: r.OOMKilled });
      },
      () => finish({ kind: 'gone' }),
    );
    if (o.healthy || o.unhealthy) {
      timer = setInterval(check, o.pollMs);
      timer.unref();
    }
  });
}

/** Resolves with the promise's value, or with `undefined` once the signal aborts (the work goes on unobserved). */
export function unlessAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<{ value: T } | undefined> {
  if (signal.aborted) {
    p.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      p.catch(() => undefined);
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve({ value });
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
