// Content-addressed blobs under <root>/blobs/sha256/<hex>. Every write is hashed while it streams to a temp
// file and renamed into place only when the digest matches, so a corrupt download never becomes a blob.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidArgument, NotFound } from '../../api/index.js';

export class DigestMismatch extends InvalidArgument {
  constructor(expected: string, actual: string) {
    super(`digest mismatch: expected ${expected}, got ${actual}`);
  }
}

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function checkDigest(digest: string): string {
  if (!DIGEST_RE.test(digest)) throw new InvalidArgument(`unsupported digest: ${digest}`);
  return digest.slice('sha256:'.length);
}

export class BlobStore {
  private seq = 0;
  constructor(readonly root: string) {}

  async start(): Promise<void> {
    await mkdir(join(this.root, 'sha256'), { recursive: true });
    await mkdir(join(this.root, 'tmp'), { recursive: true });
  }

  pathOf(digest: string): string {
    return join(this.root, 'sha256', checkDigest(digest));
  }

  async has(digest: string): Promise<boolean> {
    return stat(this.pathOf(digest)).then(
      () => true,
      () => false,
    );
  }

  async read(digest: string): Promise<Buffer> {
    try {
      return await readFile(this.pathOf(digest));
    } catch {
      throw new NotFound(`blob ${digest} not found`);
    }
  }

  open(digest: string): Readable {
    return createReadStream(this.pathOf(digest));
  }

  /** Streams `source` into the store; verifies `expected` if given. Returns the digest and size. */
  async put(
    source: Readable | Buffer,
    expected?: string,
    onBytes?: (n: number) => void,
  ): Promise<{ digest: string; size: number }> {
    if (expected) checkDigest(expected);
    const staged = await this.stage(source, onBytes);
    try {
      if (expected && staged.digest !== expected) throw new DigestMismatch(expected, staged.digest);
      const fh = await open(staged.path, 'r');
      await fh.sync().finally(() => fh.close());
      await rename(staged.path, this.pathOf(staged.digest));
      return { digest: staged.digest, size: staged.size };
    } finally {
      await staged.discard();
    }
  }

  /**
   * Streams `source` to a temp file of the caller's own, hashing it on the way: for content that is only read
   * once (an imported rootfs tar is unpacked, then dropped). Never shared, so two imports of the same tar
   * cannot remove each other's file. `discard` removes it.
   */
  async stage(
    source: Readable | Buffer,
    onBytes?: (n: number) => void,
  ): Promise<{ path: string; digest: string; size: number; discard(): Promise<void> }> {
    const path = join(this.root, 'tmp', `${process.pid}-${++this.seq}-${Date.now()}`);
    const discard = () => rm(path, { force: true });
    const hash = createHash('sha256');
    let size = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        hash.update(chunk);
        size += chunk.length;
        onBytes?.(size);
        cb(null, chunk);
      },
    });
    try {
      const input = Buffer.isBuffer(source) ? Readable.from([source]) : source;
      await pipeline(input, meter, createWriteStream(path, { mode: 0o600 }));
    } catch (err) {
      await discard();
      throw err;
    }
    return { path, digest: `sha256:${hash.digest('hex')}`, size, discard };
  }

  async remove(digest: string): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }
}
