// Object IDs as swarmkit makes them: 25 characters of base36 from 128 random bits.
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

/** Cryptographically random bytes drawn from a pool refilled 4 KiB at a time (one syscall per 256 IDs). */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_SIZE) return randomFillSync(Buffer.allocUnsafe(n));
  if (offset + n > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  offset += n;
  return out;
}

export function newId(random: (n: number) => Buffer = pooledRandomBytes): string {
  const n = BigInt('0x' + random(16).toString('hex'));
  return n.toString(36).padStart(25, '0');
}

/** Docker's short form of an ID in tables. */
export function shortId(id: string, len = 12): string {
  return id.slice(0, len);
}
