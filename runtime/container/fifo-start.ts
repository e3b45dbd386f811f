// Starting a created runc container without spawning `runc start`: a created container's init process waits
// to open <runc-root>/<id>/exec.fifo for writing; `runc start` only opens it for reading, reads the byte init
// writes, and removes the fifo (runc 1.0/1.1, libcontainer's linuxContainer.exec). Doing those three steps
// here saves a Go process start (tens of ms on a busy node) on every container start. If the fifo is not where
// runc keeps it, callers fall back to `runc start`.
import { constants, existsSync, openSync, readSync, unlinkSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { Internal } from '../../api/index.js';
import { processAlive } from '../process/index.js';
import type { RuncEnv } from './runc.js';

/**
 * The fifo is opened read-write and non-blocking, which on Linux never waits: init's own open for writing then
 * returns at once, and since we hold a writer too our reads never see end-of-file. The byte init writes arrives
 * through the event loop (a pipe socket), so no pool thread waits on a slow init while other starts need the
 * pool. If init dies before writing, the liveness check below gives up.
 */
export async function startThroughFifo(
  env: RuncEnv,
  id: string,
  initPid: number,
  timeoutMs = 15_000,
): Promise<boolean> {
  const fifo = join(env.root, id, 'exec.fifo');
  if (!existsSync(fifo)) return false;
  const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
  const pipe = new Socket({ fd, readable: true, writable: false });
  const deadline = Date.now() + timeoutMs;
  let guard: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      pipe.once('data', () => resolve());
      pipe.once('error', reject);
      guard = setInterval(() => {
        if (processAlive(initPid) && Date.now() <= deadline) return;
        // A short-lived command may have written, exec'd and exited before the socket read its byte.
        try {
          if (readSync(fd, Buffer.alloc(16)) > 0) return resolve();
        } catch {
          // EAGAIN: nothing was written
        }
        reject(new Internal(`container ${id} died before it started`));
      }, 50);
    });
  } finally {
    clearInterval(guard);
    pipe.destroy();
  }
  unlinkSync(fifo);
  return true;
}
