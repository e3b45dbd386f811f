// Unpacked layers under <root>/<diffid-hex>, shared by every image that lists the same diff_id. A layer is
// extracted with GNU tar into a temp dir, its whiteouts converted, then renamed into place: present means complete.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { checkDigest, DigestMismatch } from './blob-store.js';
import { run } from './fs-util.js';
import { convertWhiteouts } from './whiteouts.js';

async function isGzip(path: string): Promise<boolean> {
  for await (const chunk of createReadStream(path, { start: 0, end: 1 })) {
    const b = chunk as Buffer;
    return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
  }
  return false;
}

/** sha256 of the uncompressed tar stream: the layer's diff_id. */
export async function diffIdOf(blobPath: string): Promise<string> {
  const hash = createHash('sha256');
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      cb();
    },
  });
  if (await isGzip(blobPath)) await pipeline(createReadStream(blobPath), createGunzip(), sink);
  else await pipeline(createReadStream(blobPath), sink);
  return `sha256:${hash.digest('hex')}`;
}

export class LayerStore {
  private seq = 0;
  constructor(readonly root: string) {}

  async start(): Promise<void> {
    await mkdir(join(this.root, 'tmp'), { recursive: true });
    await rm(join(this.root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.root, 'tmp'), { recursive: true });
  }

  dirOf(diffId: string): string {
    return join(this.root, checkDigest(diffId));
  }

  async has(diffId: string): Promise<boolean> {
    return stat(this.dirOf(diffId)).then(
      () => true,
      () => false,
    );
  }

  /**
   * Unpacks a (possibly gzipped) layer tar once and returns its diff_id (the uncompressed digest), which must
   * equal `expected` when one is given (a pulled layer); an imported tar's is computed here, once.
   */
  async unpack(blobPath: string, expected?: string): Promise<string> {
    if (expected && (await this.has(expected))) return expected;
    const diffId = await diffIdOf(blobPath);
    if (expected && diffId !== expected) throw new DigestMismatch(expected, diffId);
    if (!expected && (await this.has(diffId))) return diffId;
    const dest = this.dirOf(diffId);
    const tmp = join(this.root, 'tmp', `${process.pid}-${++this.seq}`);
    await mkdir(tmp, { recursive: true });
    try {
      await run('tar', ['-x', '--numeric-owner', '--same-permissions', '-C', tmp, '-f', blobPath]);
      await convertWhiteouts(tmp);
      try {
        await rename(tmp, dest);
      } catch (err) {
        // A concurrent pull of the same layer finished first: its directory is complete, use it.
        if (!(await this.has(diffId))) throw err;
      }
      return diffId;
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  async list(): Promise<string[]> {
    const names = await readdir(this.root);
    return names.filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  async remove(diffId: string): Promise<void> {
    await rm(this.dirOf(diffId), { recursive: true, force: true });
  }
}
