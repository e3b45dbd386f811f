// WAL frames: 8-byte aligned `len u32 | crc32c u32 | type u8 | payload | zero padding`, the CRC rolling over
// (type, payload) from the previous frame's CRC so a frame cannot be moved or dropped unnoticed.
import { crc32c } from './crc32c.js';

export const RecordType = { Entries: 1, HardState: 2, Snapshot: 3, SegmentStart: 4 } as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export const HEADER = 9;
export const align8 = (n: number): number => (n + 7) & ~7;

export function frameSize(payloadLen: number): number {
  return align8(HEADER + payloadLen);
}

/** Writes one frame into `out` at `off`; returns the new rolling CRC. */
export function writeFrame(
  out: Buffer,
  off: number,
  type: RecordType,
  payload: Uint8Array,
  prevCrc: number,
): number {
  out.writeUInt32LE(payload.length, off);
  out[off + 8] = type;
  out.set(payload, off + HEADER);
  out.fill(0, off + HEADER + payload.length, off + frameSize(payload.length));
  const crc = crc32c(payload, crc32c(out.subarray(off + 8, off + 9), prevCrc));
  out.writeUInt32LE(crc, off + 4);
  return crc;
}

export interface Frame {
  type: number;
  payload: Buffer;
  offset: number;
  end: number;
  crc: number;
}

export type ReadResult = { frame: Frame } | { torn: string } | { corrupt: string };

/** Reads the frame at `off`. `torn` when the file ends inside it, `corrupt` when it is whole but wrong. */
export function readFrame(buf: Buffer, off: number, prevCrc: number): ReadResult {
  if (off + HEADER > buf.length) return { torn: 'incomplete header' };
  const len = buf.readUInt32LE(off);
  const end = off + frameSize(len);
  if (end > buf.length) return { torn: `frame of ${len} bytes runs past the end of the file` };
  const type = buf[off + 8]!;
  const payload = buf.subarray(off + HEADER, off + HEADER + len);
  const crc = crc32c(payload, crc32c(buf.subarray(off + 8, off + 9), prevCrc));
  if (crc !== buf.readUInt32LE(off + 4)) return { corrupt: `checksum mismatch (type ${type}, ${len} bytes)` };
  return { frame: { type, payload, offset: off, end, crc } };
}
