// The Raft node driver: ticks the core from a timer and drives core <-> WAL <-> transport <-> state machine.
// Order per Ready: persist (fdatasync when required) -> send -> apply -> advance, so nothing is acknowledged
// before it is durable and nothing is reported committed before it is applied locally.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  createLogger,
  decode,
  encode,
  errorMessage,
  FailedPrecondition,
  Unavailable,
  type Logger,
} from '../api/index.js';
import { RaftCore } from './core/raft-core.js';
import { NotLeaderError, OutcomeUnknownError } from './core/errors.js';
import { splitAtWrite } from './core/write-order.js';
import { SnapshotStore } from './storage/snapshots.js';
import { Wal } from './storage/wal.js';
import { forceSingleMember } from './driver/force-new-cluster.js';
import type { GrpcTransport } from './transport/grpc-transport.js';
import {
  EntryType,
  type ConfChange,
  type Entry,
  type MemberId,
  type Message,
  type RaftConfig,
  type Ready,
  type Snapshot,
  type SnapshotMeta,
} from './types.js';

/** How long a membership change waits for an earlier one to be applied before giving up. */
const CONF_CHANGE_WAIT_MS = 15_000;

/** The replicated state machine (the manager's store). */
export interface StateMachine {
  /** Committed normal entries, in log order, each exactly once per process lifetime after restore. */
  apply(entries: Entry[]): void;
  snapshot(): Uint8Array;
  restore(data: Uint8Array): void;
}

export interface RaftNodeOptions {
  id: MemberId;
  /** Raft state directory: wal/ and snap/ inside. */
  dir: string;
  stateMachine: StateMachine;
  transport: GrpcTransport;
  /** Members and addresses of a brand-new cluster (first start only); omit when joining an existing one. */
  bootstrap?: { id: MemberId; addr: string }[];
  /** This member's own cluster address, recorded in snapshots for the others. */
  addr?: string;
  /** Known peers' addresses (restarts, joins); conf changes keep the map current afterwards. */
  peers?: { id: MemberId; addr: string }[];
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
  snapshotEvery?: number;
  proposalTimeoutMs?: number;
  raft?: Partial<RaftConfig>;
  log?: Logger;
  /** Observation hooks for metrics (durations in seconds). */
  observer?: RaftObserver;
  /**
   * Disaster recovery (`swarm init --force-new-cluster`): keep the committed log, drop any uncommitted tail and
   * commit removals of every other member, so this node restarts as a one-member cluster with all its data.
   */
  forceNewCluster?: boolean;
}

/** What the driver reports to metrics; every hook is optional and must not throw. */
export interface RaftObserver {
  /** A WAL append that ended with fdatasync (the write and the sync). */
  walFsync?(seconds: number): void;
  /** A proposal (normal entry) accepted by this node's core as leader. */
  proposed?(): void;
  /** A proposal of this node committed and applied here: the time since `propose`. */
  applied?(seconds: number): void;
  /** A snapshot taken of the state machine and written to disk. */
  snapshot?(seconds: number): void;
}

interface PendingProposal {
  term: number;
  started: bigint;
  /** Normal proposals are transactions for metrics; membership changes are not. */
  observed: boolean;
  resolve: (r: { index: number }) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface LeaderChange {
  leader: MemberId | '';
  isLeader: boolean;
  term: number;
}

export class RaftNode {
  readonly id: MemberId;
  private core!: RaftCore;
  private wal!: Wal;
  private snaps!: SnapshotStore;
  private timer?: NodeJS.Timeout;
  private running = false;
  private busy = false;
  private again = false;
  private applied = 0;
  private lastSnapshotIndex = 0;
  private pending = new Map<number, PendingProposal>();
  private reads = new Map<
    string,
    { resolve: () => void; reject: (e: unknown) => void; index?: number; timer: NodeJS.Timeout }
  >();
  private leaderListeners = new Set<(c: LeaderChange) => void>();
  private lastLeader: MemberId | '' = '';
  private heard = new Map<MemberId, number>();
  private readonly log: Logger;
  private stopped?: Promise<void>;

  constructor(private readonly o: RaftNodeOptions) {
    this.id = o.id;
    this.log = o.log ?? createLogger({ component: 'raft', node: o.id });
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.snaps = new SnapshotStore(join(this.o.dir, 'snap'));
    const snapshot = await this.snaps.loadNewest();
    const { wal, state } = await Wal.open(join(this.o.dir, 'wal'));
    this.wal = wal;
    let { hardState, entries } = state;
    entries = entries.filter((e) => e.index > (snapshot?.meta.index ?? 0));
    if (!snapshot && entries.length === 0 && hardState.term === 0 && this.o.bootstrap) {
      // A new cluster: its founding members are the first committed entries of the log.
      entries = this.o.bootstrap.map((m, i) => ({
        term: 1,
        index: i + 1,
        type: EntryType.ConfChange,
        data: encode({ type: 'addVoter', id: m.id, context: encode({ addr: m.addr }) } satisfies ConfChange),
      }));
      hardState = { term: 1, vote: '', commit: entries.length };
      await this.wal.save(hardState, entries, true);
    }
    if (this.o.forceNewCluster) {
      let forced;
      try {
        forced = forceSingleMember(this.id, snapshot, hardState, entries);
      } catch (err) {
        await this.wal.close();
        throw err;
      }
      await this.wal.save(forced.hardState, forced.appended, true);
      ({ hardState, entries } = forced);
      this.log.warn('forcing a new one-member cluster from the existing log', { commit: hardState.commit });
    }
    if (snapshot) {
      this.o.stateMachine.restore(snapshot.data);
      this.applied = snapshot.meta.index;
      this.lastSnapshotIndex = snapshot.meta.index;
    }
    if (snapshot) this.learnAddresses(snapshot.meta);
    for (const p of this.o.peers ?? []) if (p.id !== this.id) this.o.transport.setPeer(p.id, p.addr);
    const cfg: RaftConfig = {
      id: this.id,
      electionTick: this.o.electionTick ?? 10,
      heartbeatTick: this.o.heartbeatTick ?? 1,
      preVote: true,
      checkQuorum: true,
      maxSizePerMsg: 1024 * 1024,
      maxInflightMsgs: 256,
      maxUncommittedEntriesSize: 256 * 1024 * 1024,
      random: Math.random,
      ...this.o.raft,
    };
    this.core = new RaftCore(cfg, {
      hardState,
      conf: snapshot?.meta.conf ?? { voters: [], learners: [] },
      snapshot,
      entries,
    });
    this.running = true;
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 100);
    this.timer.unref();
    this.kick();
  }

  // ---- inputs ----

  private tick(): void {
    if (!this.running) return;
    this.core.tick();
    this.kick();
  }

  /** Entry point for the transport. */
  receive(m: Message): void {
    if (!this.running) return;
    this.heard.set(m.from, Date.now());
    this.core.step(m);
    this.kick();
  }

  reportUnreachable(id: MemberId): void {
    if (!this.running) return;
    this.core.reportUnreachable(id);
  }

  reportSnapshot(id: MemberId, ok: boolean): void {
    if (!this.running) return;
    this.core.reportSnapshot(id, ok);
    this.kick();
  }

  /** Replicates `data`; resolves once it is committed and applied on this node. */
  propose(data: Uint8Array): Promise<{ index: number }> {
    if (!this.running) return Promise.reject(new Unavailable('raft node is stopped'));
    return this.track(
      () => {
        const index = this.core.propose(data);
        this.o.observer?.proposed?.();
        return index;
      },
      (index, ms) => `proposal at index ${index} not committed within ${ms} ms (outcome unknown)`,
      true,
    );
  }

  /** Appends through `append` (which returns the entry's index) and resolves when that entry is applied here. */
  private track(
    append: () => number,
    timeoutMessage: (index: number, ms: number) => string,
    observed = false,
  ): Promise<{ index: number }> {
    const started = process.hrtime.bigint();
    let index: number;
    try {
      index = append();
    } catch (err) {
      return Promise.reject(err);
    }
    const term = this.core.term;
    const ms = this.o.proposalTimeoutMs ?? 10_000;
    this.kick();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(index);
        reject(new Unavailable(timeoutMessage(index, ms)));
      }, ms);
      timer.unref();
      this.pending.set(index, { term, started, observed, resolve, reject, timer });
    });
  }

  /** Resolves when this node has applied everything committed before the call: a linearizable read barrier. */
  readBarrier(timeoutMs = 5000): Promise<void> {
    if (!this.running) return Promise.reject(new Unavailable('raft node is stopped'));
    const ctx = randomBytes(8);
    try {
      this.core.readIndex(ctx);
    } catch (err) {
      return Promise.reject(err);
    }
    this.kick();
    return new Promise((resolve, reject) => {
      const key = ctx.toString('hex');
      const timer = setTimeout(() => {
        this.reads.delete(key);
        reject(new Unavailable('read index not confirmed in time (no quorum?)'));
      }, timeoutMs);
      timer.unref();
      this.reads.set(key, { resolve, reject, timer });
    });
  }

  async addLearner(id: MemberId, addr: string): Promise<void> {
    await this.confChange({ type: 'addLearner', id, context: encode({ addr }) });
  }

  async promote(id: MemberId): Promise<void> {
    await this.confChange({
      type: 'addVoter',
      id,
      context: encode({ addr: this.o.transport.peerAddress(id) ?? '' }),
    });
  }

  async removeMember(id: MemberId): Promise<void> {
    await this.confChange({ type: 'remove', id });
  }

  /** One membership change at a time: a change asked for while another is pending waits (bounded) for its turn. */
  private async confChange(cc: ConfChange): Promise<{ index: number }> {
    const deadline = Date.now() + CONF_CHANGE_WAIT_MS;
    for (;;) {
      try {
        return await this.track(
          () => this.core.proposeConfChange(cc),
          () => 'membership change not committed in time',
        );
      } catch (err) {
        if (!(err instanceof FailedPrecondition) || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  transferLeadership(to: MemberId): void {
    this.core.transferLeadership(to);
    this.kick();
  }

  /** Starts an election at once (force-new-cluster recovery, tests). */
  campaign(): void {
    this.core.campaign();
    this.kick();
  }

  onLeaderChange(l: (c: LeaderChange) => void): () => void {
    this.leaderListeners.add(l);
    return () => this.leaderListeners.delete(l);
  }

  get isLeader(): boolean {
    return this.running && this.core.role === 'leader';
  }

  get leader(): MemberId | '' {
    return this.running ? this.core.lead : '';
  }

  status(): ReturnType<RaftCore['status']> & { droppedMessages: number } {
    return { ...this.core.status(), droppedMessages: this.core.droppedMessages };
  }

  /** When a message from `id` last arrived (ms since the epoch), for manager reachability. */
  lastHeardFrom(id: MemberId): number | undefined {
    return this.heard.get(id);
  }

  get walSyncs(): number {
    return this.wal.syncs;
  }

  // ---- the Ready loop ----

  private kick(): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    if (!this.running || !this.core.hasReady()) return;
    this.busy = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (this.running && this.core.hasReady()) await this.handle(this.core.ready());
      } while (this.again && this.running);
    } catch (err) {
      this.log.error('raft ready loop failed; stopping the node', { err: errorMessage(err) });
      void this.stop();
    } finally {
      this.busy = false;
    }
  }

  private async handle(rd: Ready): Promise<void> {
    if (rd.snapshot) await this.installSnapshot(rd.snapshot);
    // Committed entries that precede this Ready's new ones are on this disk already: applying them (and
    // answering their proposals) need not wait for the new batch's fsync. On a busy leader that is all of them.
    const firstNew = rd.entries[0]?.index ?? Infinity;
    let stable = rd.committedEntries.findIndex((e) => e.index >= firstNew);
    if (stable < 0) stable = rd.committedEntries.length;
    this.apply(rd.committedEntries.slice(0, stable));
    // A leader's appends go out before its own write, so the followers write in parallel (see splitAtWrite).
    const { before, after } = splitAtWrite(rd, this.wal.term);
    if (before.length) this.o.transport.send(before);
    const t0 = process.hrtime.bigint();
    const syncs = this.wal.syncs;
    await this.wal.save(rd.hardState, rd.entries, rd.mustSync);
    if (this.wal.syncs > syncs) this.o.observer?.walFsync?.(secondsSince(t0));
    this.o.transport.send(after);
    this.apply(rd.committedEntries.slice(stable));
    for (const rs of rd.readStates) {
      const r = this.reads.get(Buffer.from(rs.requestCtx).toString('hex'));
      if (r) r.index = rs.index;
    }
    this.settleReads();
    this.core.advance(rd);
    if (rd.softState && rd.softState.leader !== this.lastLeader) {
      this.lastLeader = rd.softState.leader;
      if (rd.softState.role !== 'leader')
        this.failPending(new OutcomeUnknownError(), new NotLeaderError(rd.softState.leader));
      const change = {
        leader: rd.softState.leader,
        isLeader: rd.softState.role === 'leader',
        term: this.core.term,
      };
      for (const l of this.leaderListeners) l(change);
    }
    if (this.applied - this.lastSnapshotIndex >= (this.o.snapshotEvery ?? 10_000)) await this.takeSnapshot();
  }

  private apply(entries: Entry[]): void {
    const normal: Entry[] = [];
    for (const e of entries) {
      if (e.index <= this.applied) continue;
      if (e.type === EntryType.ConfChange) {
        const cc = decode<ConfChange>(e.data);
        const addr = cc.context ? decode<{ addr?: string }>(cc.context).addr : undefined;
        if (cc.type === 'remove') this.o.transport.removePeer(cc.id);
        else if (addr && cc.id !== this.id) this.o.transport.setPeer(cc.id, addr);
      } else if (e.data.length > 0) normal.push(e);
      this.applied = e.index;
    }
    if (normal.length) this.o.stateMachine.apply(normal);
    for (const e of entries) {
      const p = this.pending.get(e.index);
      if (!p) continue;
      this.pending.delete(e.index);
      clearTimeout(p.timer);
      if (e.term === p.term) {
        if (p.observed) this.o.observer?.applied?.(secondsSince(p.started));
        p.resolve({ index: e.index });
      } else p.reject(new Unavailable(`proposal at index ${e.index} was replaced by another leader's entry`));
    }
  }

  private settleReads(): void {
    for (const [key, r] of this.reads) {
      if (r.index !== undefined && r.index <= this.applied) {
        this.reads.delete(key);
        clearTimeout(r.timer);
        r.resolve();
      }
    }
  }

  /** Rejects pending proposals with `err` and pending reads with `readErr` (the same by default). */
  private failPending(err: unknown, readErr = err): void {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
    for (const [, r] of this.reads) {
      clearTimeout(r.timer);
      r.reject(readErr);
    }
    this.reads.clear();
  }

  private async installSnapshot(s: Snapshot): Promise<void> {
    await this.snaps.save(s);
    await this.wal.saveSnapshot(s.meta.index, s.meta.term);
    this.o.stateMachine.restore(s.data);
    this.learnAddresses(s.meta);
    this.applied = s.meta.index;
    this.lastSnapshotIndex = s.meta.index;
  }

  private learnAddresses(meta: SnapshotMeta): void {
    for (const [id, addr] of Object.entries(meta.addrs ?? {}))
      if (id !== this.id && addr) this.o.transport.setPeer(id, addr);
  }

  private async takeSnapshot(): Promise<void> {
    const started = process.hrtime.bigint();
    const index = this.applied;
    const term = this.core.log.term(index);
    if (term === undefined) return;
    const conf = this.core.status().conf;
    const addrs: Record<MemberId, string> = {};
    for (const id of [...conf.voters, ...conf.learners]) {
      const addr = id === this.id ? this.o.addr : this.o.transport.peerAddress(id);
      if (addr) addrs[id] = addr;
    }
    const snap: Snapshot = {
      meta: { index, term, conf, addrs },
      data: this.o.stateMachine.snapshot(),
    };
    await this.snaps.save(snap);
    await this.wal.saveSnapshot(index, term);
    this.core.compact(snap);
    this.lastSnapshotIndex = index;
    this.o.observer?.snapshot?.(secondsSince(started));
  }

  stop(): Promise<void> {
    if (this.stopped) return this.stopped;
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.failPending(new Unavailable('raft node stopped'));
    this.stopped = (async () => {
      // Let an in-flight Ready finish writing before the WAL closes.
      while (this.busy) await new Promise((r) => setTimeout(r, 5));
      await this.wal?.close();
    })();
    return this.stopped;
  }
}

function secondsSince(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
