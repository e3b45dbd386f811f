// Which of a Ready's messages may leave before the Ready is written: a leader's appends of a term already on disk
// (Raft thesis §10.2.1; the core counts the leader's own copy only once advance() reports it written). Anything
// else (votes, acknowledgements, a term not yet durable) waits for the write.
import type { Message, Ready } from '../types.js';

export function splitAtWrite(rd: Ready, termOnDisk: number): { before: Message[]; after: Message[] } {
  const early = (m: Message) => m.type === 'app' && m.term === termOnDisk;
  if (rd.entries.length === 0 || !rd.messages.some(early)) return { before: [], after: rd.messages };
  return { before: rd.messages.filter(early), after: rd.messages.filter((m) => !early(m)) };
}
