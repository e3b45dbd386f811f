// The leader's view of one follower: how far it matches, what to send next, and how much is in flight.

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** Probe: an append is outstanding, wait for its answer or a heartbeat response. */
  probeSent = false;
  pendingSnapshot = 0;
  /** Heard from since the last check-quorum round. */
  recentActive = true;
  /** Replicate: last index and size of each append in flight, oldest first. */
  private inflight: { index: number; bytes: number }[] = [];
  private inflightBytes = 0;

  constructor(
    next: number,
    readonly isLearner: boolean,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      this.next = Math.max(this.match + 1, this.pendingSnapshot + 1);
      this.pendingSnapshot = 0;
    } else this.next = this.match + 1;
    this.state = 'probe';
    this.probeSent = false;
    this.resetInflight();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.probeSent = false;
    this.resetInflight();
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.resetInflight();
  }

  private resetInflight(): void {
    this.inflight = [];
    this.inflightBytes = 0;
  }

  /** An acknowledgement up to `n`; false when it is old news. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * A rejection of the append at `rejected`; `hint` is the follower's suggestion of where logs may agree.
   * Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, hint + 1), 1);
    this.probeSent = false;
    return true;
  }

  sentAppend(lastIndex: number, bytes: number, count: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflight.push({ index: lastIndex, bytes });
        this.inflightBytes += bytes;
      }
    } else if (this.state === 'probe') this.probeSent = true;
  }

  /** A heartbeat answer while the window is full: let one more append out, in case acks were lost. */
  freeFirstInflight(): void {
    const first = this.inflight.shift();
    if (first) this.inflightBytes -= first.bytes;
  }

  isFull(maxMsgs: number, maxBytes: number): boolean {
    return this.state === 'replicate' && (this.inflight.length >= maxMsgs || this.inflightBytes >= maxBytes);
  }

  freeInflightTo(index: number): void {
    while (this.inflight.length > 0 && this.inflight[0]!.index <= index)
      this.inflightBytes -= this.inflight.shift()!.bytes;
  }

  isPaused(maxMsgs: number, maxBytes: number): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflight.length >= maxMsgs || this.inflightBytes >= maxBytes;
      case 'snapshot':
        return true;
    }
  }
}
