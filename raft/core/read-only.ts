// ReadIndex on the leader (Raft thesis §6.4): a read is answered with the commit index once a quorum has
// confirmed, by answering a heartbeat that carries the read's context, that this node was still the leader.
import type { MemberId } from '../types.js';

export interface PendingRead {
  /** The commit index when the read arrived: the state machine must reach it before serving the read. */
  index: number;
  ctx: Uint8Array;
  /** Follower that asked (answered with readIndexResp), or '' for a local request. */
  from: MemberId;
  acks: Set<MemberId>;
}

const key = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class ReadOnly {
  private pending: PendingRead[] = [];
  private byCtx = new Map<string, PendingRead>();
  /** Reads that arrived before the leader committed an entry of its own term. */
  private deferred: { ctx: Uint8Array; from: MemberId }[] = [];

  reset(): void {
    this.pending = [];
    this.byCtx.clear();
    this.deferred = [];
  }

  defer(ctx: Uint8Array, from: MemberId): void {
    this.deferred.push({ ctx, from });
  }

  takeDeferred(): { ctx: Uint8Array; from: MemberId }[] {
    const out = this.deferred;
    this.deferred = [];
    return out;
  }

  hasDeferred(): boolean {
    return this.deferred.length > 0;
  }

  /** Registers a read that waits for a heartbeat round; a duplicate context joins the existing request. */
  add(index: number, ctx: Uint8Array, from: MemberId, self: MemberId): boolean {
    const k = key(ctx);
    if (this.byCtx.has(k)) return false;
    const read: PendingRead = { index, ctx, from, acks: new Set([self]) };
    this.pending.push(read);
    this.byCtx.set(k, read);
    return true;
  }

  /**
   * A voter answered the heartbeat carrying `ctx`. Once a quorum has, that read and every earlier one are
   * confirmed (leadership was proven after they arrived): they are returned in arrival order.
   */
  ack(ctx: Uint8Array, voter: MemberId, quorum: number): PendingRead[] {
    const read = this.byCtx.get(key(ctx));
    if (!read) return [];
    read.acks.add(voter);
    if (read.acks.size < quorum) return [];
    const i = this.pending.indexOf(read);
    const done = this.pending.splice(0, i + 1);
    for (const r of done) this.byCtx.delete(key(r.ctx));
    return done;
  }
}
