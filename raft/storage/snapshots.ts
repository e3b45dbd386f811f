// Snapshot files: <term>-<index>.snap = msgpack(snapshot) + crc32c trailer, written to a temp file, fsynced and
// renamed; the newest intact one is loaded; older ones beyond `keep` are removed.
import { open, readdir, readFile, rename, unlink, mkdir } from 'node:fs/promises';
import { openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode } from '../../api/index.js';
import type { Snapshot } from '../types.js';
import { crc32c } from './crc32c.js';

const NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.snap$/;
const hex16 = (n: number): string => n.toString(16).padStart(16, '0');

export class SnapshotStore {
  constructor(
    readonly dir: string,
    private readonly keep = 2,
  ) {}

  async save(s: Snapshot): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const body = encode({ meta: s.meta, data: s.data });
    const trailer = Buffer.alloc(4);
    trailer.writeUInt32LE(crc32c(body));
    const name = `${hex16(s.meta.term)}-${hex16(s.meta.index)}.snap`;
    const tmp = join(this.dir, `${name}.tmp`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.write(body);
      await fh.write(trailer);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, join(this.dir, name));
    const dfd = openSync(this.dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
    const names = await this.names();
    for (const old of names.slice(this.keep)) await unlink(join(this.dir, old));
  }

  /** Newest first, by index. */
  private async names(): Promise<string[]> {
    let all: string[];
    try {
      all = await readdir(this.dir);
    } catch {
      return [];
    }
    return all.filter((n) => NAME.test(n)).sort((a, b) => NAME.exec(b)![2]!.localeCompare(NAME.exec(a)![2]!));
  }

  /** The newest intact snapshot; a damaged file is skipped (an older one is still consistent with the WAL). */
  async loadNewest(): Promise<Snapshot | undefined> {
    for (const name of await this.names()) {
      const buf = await readFile(join(this.dir, name));
      if (buf.length < 4) continue;
      const body = buf.subarray(0, buf.length - 4);
      if (crc32c(body) !== buf.readUInt32LE(buf.length - 4)) continue;
      return decode<Snapshot>(body);
    }
    return undefined;
  }
}
