// Shape checks for messages from the network: anything malformed is dropped before it reaches the state machine.
import type { Entry, Message, MessageType } from '../types.js';

const WIRE_TYPES = new Set<MessageType>([
  'app',
  'appResp',
  'vote',
  'voteResp',
  'preVote',
  'preVoteResp',
  'snap',
  'heartbeat',
  'heartbeatResp',
  'timeoutNow',
  'readIndex',
  'readIndexResp',
]);

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isBytes = (v: unknown): boolean => v instanceof Uint8Array;

function isEntry(e: unknown): e is Entry {
  const x = e as Entry;
  return (
    !!x &&
    typeof x === 'object' &&
    isIndex(x.term) &&
    isIndex(x.index) &&
    (x.type === 0 || x.type === 1) &&
    isBytes(x.data)
  );
}

export function isWellFormed(m: unknown): m is Message {
  const x = m as Message;
  if (!x || typeof x !== 'object') return false;
  if (!WIRE_TYPES.has(x.type)) return false;
  if (typeof x.from !== 'string' || x.from === '' || typeof x.to !== 'string') return false;
  if (!isIndex(x.term) || !isIndex(x.logTerm) || !isIndex(x.index) || !isIndex(x.commit)) return false;
  if (x.entries !== undefined) {
    if (!Array.isArray(x.entries) || !x.entries.every(isEntry)) return false;
    for (let i = 0; i < x.entries.length; i++) if (x.entries[i]!.index !== x.index + 1 + i) return false;
  }
  if (x.reject !== undefined && typeof x.reject !== 'boolean') return false;
  if (x.rejectHint !== undefined && !isIndex(x.rejectHint)) return false;
  if (x.context !== undefined && !isBytes(x.context)) return false;
  if (x.snapshot !== undefined) {
    const s = x.snapshot;
    if (!s || !s.meta || !isIndex(s.meta.index) || !isIndex(s.meta.term) || !isBytes(s.data)) return false;
    if (!Array.isArray(s.meta.conf?.voters) || !Array.isArray(s.meta.conf?.learners)) return false;
  }
  return true;
}
