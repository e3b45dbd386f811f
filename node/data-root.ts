// The daemon's data root: created on first use and held by exactly one daemon through a pid lock file.
import { mkdirSync, openSync, readFileSync, unlinkSync, writeSync, closeSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FailedPrecondition } from '../api/index.js';

export const DATA_ROOT_DIRS = ['swarm', 'image', 'containers', 'volumes'] as const;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DataRoot {
  private lockPath: string;
  private locked = false;

  constructor(readonly path: string) {
    this.lockPath = join(path, 'tsswarm.pid');
  }

  /** Creates the layout and takes the lock; throws when another live daemon holds it. */
  open(): void {
    mkdirSync(this.path, { recursive: true, mode: 0o711 });
    for (const d of DATA_ROOT_DIRS) mkdirSync(join(this.path, d), { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        this.locked = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const holder = Number.parseInt(readFileSync(this.lockPath, 'utf8'), 10);
        if (Number.isInteger(holder) && holder !== process.pid && pidAlive(holder)) {
          throw new FailedPrecondition(
            `data root ${this.path} is in use by another tsswarm daemon (pid ${holder}, lock ${this.lockPath})`,
          );
        }
        // A stale lock left by a daemon that died: take it over.
        unlinkSync(this.lockPath);
      }
    }
    throw new FailedPrecondition(`could not lock data root ${this.path}`);
  }

  close(): void {
    if (!this.locked) return;
    this.locked = false;
    try {
      if (existsSync(this.lockPath) && readFileSync(this.lockPath, 'utf8').trim() === String(process.pid)) {
        unlinkSync(this.lockPath);
      }
    } catch {
      // Already gone: nothing to release.
    }
  }

  dir(...parts: string[]): string {
    return join(this.path, ...parts);
  }
}
