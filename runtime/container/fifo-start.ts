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

/**
 * The blocking open and read run on libuv's thread pool and return as soon as init opens and writes: no
 * polling. If init died before it opened its end, a non-blocking writer of our own (open, close) releases the
 * blocked open with EOF, so no pool thread stays stuck.
 */
export async function startThroughFifo(
  env: RuncEnv,
  id: string,
  initPid: number,
  timeoutMs = 15_000,
): Promise<boolean> {
  const fifo = join(env.root, id, 'exec.fifo');
  if (!existsSync(fifo)) return false;
  let settled = false;
  const read = (async () => {
    const fh = await open(fifo, constants.O_RDONLY);
    try {
      const { bytesRead } = await fh.read(Buffer.alloc(16), 0, 16, null);
      return bytesRead;
    } finally {
      await fh.close();
    }
  })();
  const deadline = Date.now() + timeoutMs;
  const guard = setInterval(async () => {
    if (settled || (alive(initPid) && Date.now() < deadline)) return;
    try {
      const w = await open(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      await w.close();
    } catch {
      // our reader is not in open() yet or already done
    }
  }, 50);
  try {
    const n = await read;
    if (n <= 0) throw new Internal(`container ${id} died before it started`);
  } finally {
    settled = true;
    clearInterval(guard);
  }
  await unlink(fifo);
  return true;
}
