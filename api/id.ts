// Object IDs as swarmkit makes them: 25 characters of base36 from 128 random bits.
import { randomBytes } from 'node:crypto';

export function newId(random: (n: number) => Buffer = randomBytes): string {
  const n = BigInt('0x' + random(16).toString('hex'));
  return n.toString(36).padStart(25, '0');
}

/** Docker's short form of an ID in tables. */
export function shortId(id: string, len = 12): string {
  return id.slice(0, len);
}
