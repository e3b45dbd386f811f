// Merges the messages of one Ready that say the same thing twice to one member. A leader appends and broadcasts
// per proposal and again per commit advance, so a busy Ready held ~4 appends per entry for each follower, and
// each follower acknowledged each one: every message is an encode, a gRPC frame and a TLS write on both sides.
import type { Message } from '../types.js';
import { entrySize } from './raft-log.js';

/**
 * Folds a message into the previous one to the same member when nothing else to that member came in between:
 * an append that continues the previous append's entries (up to `maxBytes` of entries), and an acceptance that
 * supersedes an earlier acceptance. Order among the remaining messages is kept.
 */
export function coalesce(msgs: Message[], maxBytes: number): Message[] {
  if (msgs.length < 2) return msgs;
  const out: Message[] = [];
  const lastTo = new Map<string, number>();
  for (const m of msgs) {
    const at = lastTo.get(m.to);
    const merged = at === undefined ? undefined : merge(out[at]!, m, maxBytes);
    if (merged) {
      out[at!] = merged;
      continue;
    }
    lastTo.set(m.to, out.push(m) - 1);
  }
  return out;
}

function merge(a: Message, b: Message, maxBytes: number): Message | undefined {
  if (a.term !== b.term) return undefined;
  if (a.type === 'app' && b.type === 'app') {
    const ae = a.entries ?? [];
    const be = b.entries ?? [];
    // b must start exactly where a ends, on the same entry (its index and term), for one append to equal both.
    const lastTerm = ae.length ? ae[ae.length - 1]!.term : a.logTerm;
    if (b.index !== a.index + ae.length || b.logTerm !== lastTerm) return undefined;
    if (be.length && ae.length && bytes(ae) + bytes(be) > maxBytes) return undefined;
    return { ...a, entries: ae.concat(be), commit: Math.max(a.commit, b.commit) };
  }
  if (a.type === 'appResp' && b.type === 'appResp' && !a.reject && !b.reject)
    return b.index >= a.index ? b : a;
  return undefined;
}

function bytes(entries: NonNullable<Message['entries']>): number {
  let n = 0;
  for (const e of entries) n += entrySize(e);
  return n;
}
