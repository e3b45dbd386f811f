// Small file-system helpers: atomic writes and child processes whose failure becomes a typed error.
import { open, rename } from 'node:fs/promises';
import { Internal } from '../../api/index.js';
import { run as runChild, type RunError } from '../process/index.js';

/** Writes to a temp file, fsyncs, then renames: readers never see a half-written file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
}

export async function run(cmd: string, args: string[], input?: Buffer): Promise<string> {
  try {
    return (await runChild(cmd, args, { input, maxBuffer: 16 << 20 })).stdout;
  } catch (err) {
    const e = err as RunError;
    throw new Internal(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() || e.message}`);
  }
}
