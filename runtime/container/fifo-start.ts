// Starting a created runc container without spawning `runc start`: a created container's init process waits
// to open <runc-root>/<id>/exec.fifo for writing; `runc start` only opens it for reading, reads the byte init
// writes, and removes the fifo (runc 1.0/1.1, libcontainer's linuxContainer.exec). Doing those three steps
// here saves a Go process start (tens of ms on a busy node) on every container start. If the fifo is not where
// runc keeps it, callers fall back to `runc start`.
import { constants, existsSync } from 'node:fs';
import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Internal } from '../../api/index.js';
import type { RuncEnv } from './runc.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** False when there is no exec fifo (not a runc we know): use `runc start` then. */
export async function startThroughFifo(
  env: RuncEnv,
  id: string,
  initPid: number,
  timeoutMs = 15_000,
): Promise<boolean> {
  const fifo = join(env.root, id, 'exec.fifo');
  if (!existsSync(fifo)) return false;
  // Non-blocking, so neither side waits for the other to open and no libuv thread is held.
  const fh = await open(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const buf = Buffer.alloc(16);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let n = 0;
      try {
        n = (await fh.read(buf, 0, buf.length, null)).bytesRead;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      }
      if (n > 0) break;
      if (!alive(initPid)) throw new Internal(`container ${id} died before it started`);
      if (Date.now() > deadline) throw new Internal(`container ${id} did not start within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 1));
    }
  } finally {
    await fh.close();
  }
  await unlink(fifo);
  return true;
}
