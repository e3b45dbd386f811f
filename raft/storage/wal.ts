// The write-ahead log: HardState and entries in segment files, one write and at most one fdatasync per batch.
// On open, a torn or corrupt tail of the last segment is truncated; damage anywhere else stops the node.
import { open, readdir, readFile, truncate, unlink, mkdir, type FileHandle } from 'node:fs/promises';
import { openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { decode, encode, Internal } from '../../api/index.js';
import type { Entry, HardState } from '../types.js';
import { RecordType, frameSize, readFrame, writeFrame } from './wal-format.js';

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

export interface WalState {
  hardState: HardState;
  entries: Entry[];
  /** The last snapshot the WAL was told about: entries up to it are not replayed. */
  snapshot?: { index: number; term: number };
}

interface Segment {
  path: string;
  seq: number;
  maxIndex: number;
}

const segName = (seq: number): string => `${seq.toString(16).padStart(16, '0')}.wal`;

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export class WalCorruption extends Internal {
  constructor(file: string, offset: number, why: string) {
    super(`wal: corrupt record in ${file} at offset ${offset}: ${why}`);
  }
}

export class Wal {
  private fh?: FileHandle;
  private size = 0;
  private crc = 0;
  private segments: Segment[] = [];
  private hardState: HardState = { term: 0, vote: '', commit: 0 };
  private lastIndex = 0;
  /** fdatasync count, for metrics and tests. */
  syncs = 0;

  /** The term on disk (a term change is always written with fdatasync). */
  get term(): number {
    return this.hardState.term;
  }

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
  ) {}

  static async open(dir: string, o: { segmentBytes?: number } = {}): Promise<{ wal: Wal; state: WalState }> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const wal = new Wal(dir, o.segmentBytes ?? DEFAULT_SEGMENT_BYTES);
    const state = await wal.replay();
    await wal.cut();
    return { wal, state };
  }

  private async replay(): Promise<WalState> {
    const names = (await readdir(this.dir)).filter((n) => /^[0-9a-f]{16}\.wal$/.test(n)).sort();
    let entries: Entry[] = [];
    let snapshot: WalState['snapshot'];
    for (const [i, name] of names.entries()) {
      const path = join(this.dir, name);
      const last = i === names.length - 1;
      const buf = await readFile(path);
      const seg: Segment = { path, seq: parseInt(name, 16), maxIndex: 0 };
      let off = 0;
      let crc = 0;
      while (off < buf.length) {
        const r = readFrame(buf, off, crc);
        if ('frame' in r) {
          const f = r.frame;
          crc = f.crc;
          off = f.end;
          if (f.type === RecordType.Entries) {
            const batch = decode<Entry[]>(f.payload);
            const first = batch[0]?.index;
            if (first === undefined) continue;
            const base = entries[0]?.index ?? first;
            if (entries.length > 0 && first > base + entries.length)
              throw new WalCorruption(path, f.offset, `gap before entry ${first}`);
            entries = entries.slice(0, Math.max(0, first - base)).concat(batch);
            seg.maxIndex = Math.max(seg.maxIndex, batch[batch.length - 1]!.index);
          } else if (f.type === RecordType.HardState) {
            this.hardState = decode<HardState>(f.payload);
          } else if (f.type === RecordType.Snapshot) {
            snapshot = decode<{ index: number; term: number }>(f.payload);
            entries = entries.filter((e) => e.index > snapshot!.index);
          }
          continue;
        }
        // Damage: a tail the last write never finished is cut off; anything else is an error.
        const why = 'torn' in r ? r.torn : r.corrupt;
        const endOfDamaged = 'corrupt' in r ? off + frameSize(buf.readUInt32LE(off)) : buf.length;
        if (!last || endOfDamaged < buf.length) throw new WalCorruption(path, off, why);
        await truncate(path, off);
        break;
      }
      this.segments.push(seg);
    }
    if (snapshot) entries = entries.filter((e) => e.index > snapshot!.index);
    this.lastIndex = entries[entries.length - 1]?.index ?? snapshot?.index ?? 0;
    return { hardState: this.hardState, entries, snapshot };
  }

  /** Starts a new segment that opens with the current HardState. */
  private async cut(): Promise<void> {
    await this.fh?.close();
    const seq = (this.segments[this.segments.length - 1]?.seq ?? 0) + 1;
    const path = join(this.dir, segName(seq));
    this.fh = await open(path, 'a', 0o600);
    this.segments.push({ path, seq, maxIndex: 0 });
    this.size = 0;
    this.crc = 0;
    await this.write(
      [
        [RecordType.SegmentStart, encode({ seq })],
        [RecordType.HardState, encode(this.hardState)],
      ],
      true,
    );
    fsyncDir(this.dir);
  }

  private async write(records: [RecordType, Uint8Array][], sync: boolean): Promise<void> {
    const total = records.reduce((s, [, p]) => s + frameSize(p.length), 0);
    const buf = Buffer.allocUnsafe(total);
    let off = 0;
    for (const [type, payload] of records) {
      this.crc = writeFrame(buf, off, type, payload, this.crc);
      off += frameSize(payload.length);
    }
    await this.fh!.write(buf, 0, buf.length);
    this.size += buf.length;
    if (sync) {
      await this.fh!.datasync();
      this.syncs++;
    }
  }

  /**
   * Appends a Ready's HardState and entries as one write, synced when `sync` (it must be, before messages that
   * acknowledge them are sent). Entries at or below the current last index replace the old suffix on replay.
   */
  async save(hardState: HardState | undefined, entries: Entry[], sync: boolean): Promise<void> {
    if (!hardState && entries.length === 0) return;
    const records: [RecordType, Uint8Array][] = [];
    if (entries.length > 0) records.push([RecordType.Entries, encode(entries)]);
    if (hardState) records.push([RecordType.HardState, encode(hardState)]);
    const bytes = records.reduce((s, [, p]) => s + frameSize(p.length), 0);
    if (this.size > 0 && this.size + bytes > this.segmentBytes) await this.cut();
    await this.write(records, sync);
    if (hardState) this.hardState = hardState;
    if (entries.length > 0) {
      this.lastIndex = entries[entries.length - 1]!.index;
      const seg = this.segments[this.segments.length - 1]!;
      seg.maxIndex = Math.max(seg.maxIndex, this.lastIndex);
    }
  }

  /** Records that a snapshot at `index` is durable, then releases segments holding only older entries. */
  async saveSnapshot(index: number, term: number): Promise<void> {
    // The record goes into a fresh segment, which is never released here.
    await this.cut();
    await this.write([[RecordType.Snapshot, encode({ index, term })]], true);
    const keepFrom = this.segments.findIndex((s, i) => i === this.segments.length - 1 || s.maxIndex > index);
    const drop = this.segments.slice(0, keepFrom);
    for (const s of drop) await unlink(s.path);
    this.segments = this.segments.slice(keepFrom);
    if (drop.length) fsyncDir(this.dir);
  }

  segmentCount(): number {
    return this.segments.length;
  }

  async close(): Promise<void> {
    await this.fh?.close();
    this.fh = undefined;
  }
}
