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
    const tmp = join(this.root, 'tmp', `${process.pid}-${++this.seq}-${Date.now()}`);
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
      await pipeline(input, meter, createWriteStream(tmp, { mode: 0o600 }));
      const fh = await open(tmp, 'r');
      await fh.sync().finally(() => fh.close());
      const digest = `sha256:${hash.digest('hex')}`;
      if (expected && digest !== expected) throw new DigestMismatch(expected, digest);
      await rename(tmp, this.pathOf(digest));
      return { digest, size };
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async remove(digest: string): Promise<void> {
    await rm(this.pathOf(digest), { force: true });
  }
}
