// In-memory Raft clusters for unit tests: cores with modelled persistence, a message network and a KV-free
// state machine (the list of applied payloads). Deterministic given the RNG.
import {
  RaftCore,
  splitAtWrite,
  EntryType,
  type ConfState,
  type Entry,
  type HardState,
  type MemberId,
  type Message,
  type RaftConfig,
  type ReadState,
  type Ready,
  type Snapshot,
} from '../../raft/index.js';
import { decode, encode } from '../../api/index.js';
import { rng } from './rng.js';

export { rng };

export function config(id: MemberId, random: () => number, o: Partial<RaftConfig> = {}): RaftConfig {
  return {
    id,
    electionTick: 10,
    heartbeatTick: 1,
    preVote: true,
    checkQuorum: true,
    maxSizePerMsg: 64 * 1024,
    maxInflightMsgs: 32,
    maxUncommittedEntriesSize: 1 << 30,
    random,
    ...o,
  };
}

/** What survives a crash: exactly what was persisted before messages were sent. */
export interface Disk {
  hardState: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  conf: ConfState;
}

export class SimNode {
  core: RaftCore;
  disk: Disk;
  applied: string[] = [];
  appliedIndex = 0;
  up = true;

  constructor(
    readonly id: MemberId,
    private readonly cfg: RaftConfig,
    conf: ConfState,
  ) {
    this.disk = { hardState: { term: 0, vote: '', commit: 0 }, entries: [], conf };
    this.core = new RaftCore(cfg, { hardState: this.disk.hardState, conf, entries: [] });
  }

  /** Rebuilds the core from disk, as a restarted process would. */
  restart(): void {
    this.unwritten = undefined;
    const d = this.disk;
    this.core = new RaftCore(this.cfg, {
      hardState: { ...d.hardState },
      conf: d.conf,
      snapshot: d.snapshot,
      entries: d.entries.slice(),
    });
    this.applied = d.snapshot ? decode<string[]>(d.snapshot.data) : [];
    this.appliedIndex = d.snapshot?.meta.index ?? 0;
    this.up = true;
  }

  /** A leader's Ready whose appends went out and whose write has not happened yet (lost in a crash). */
  private unwritten?: { rd: Ready; after: Message[] };

  get writing(): boolean {
    return this.unwritten !== undefined;
  }

  /**
   * As RaftNode does: a leader's appends go out first and the rest of the Ready is done on the next call (so a
   * crash in between loses what they carried); otherwise persists, then returns messages to send, then applies.
   * `onApply` sees each applied payload.
   */
  process(
    onApply?: (node: SimNode, index: number, data: string) => void,
    onRead?: (node: SimNode, read: ReadState) => void,
  ): Message[] {
    if (!this.up) return [];
    if (this.unwritten) {
      const { rd, after } = this.unwritten;
      this.unwritten = undefined;
      this.persistAndApply(rd, onApply, onRead);
      return after;
    }
    if (!this.core.hasReady()) return [];
    const rd = this.core.ready();
    const { before, after } = splitAtWrite(rd, this.disk.hardState.term);
    if (before.length) {
      this.unwritten = { rd, after };
      return before;
    }
    this.persistAndApply(rd, onApply, onRead);
    return after;
  }

  private persistAndApply(
    rd: Ready,
    onApply?: (node: SimNode, index: number, data: string) => void,
    onRead?: (node: SimNode, read: ReadState) => void,
  ): void {
    if (rd.snapshot) {
      // An installed snapshot replaces the whole log (what follows may conflict with it), as in the core.
      this.disk.snapshot = rd.snapshot;
      this.disk.entries = [];
      this.applied = decode<string[]>(rd.snapshot.data);
      this.appliedIndex = rd.snapshot.meta.index;
    }
    if (rd.entries.length) {
      const first = rd.entries[0]!.index;
      this.disk.entries = this.disk.entries.filter((e) => e.index < first).concat(rd.entries);
    }
    if (rd.hardState) this.disk.hardState = { ...rd.hardState };
    for (const e of rd.committedEntries) {
      if (e.index <= this.appliedIndex) continue;
      this.appliedIndex = e.index;
      if (e.type === EntryType.Normal && e.data.length > 0) {
        const data = Buffer.from(e.data).toString();
        this.applied.push(data);
        onApply?.(this, e.index, data);
      }
    }
    for (const r of rd.readStates) onRead?.(this, r);
    this.disk.conf = this.core.status().conf;
    this.core.advance(rd);
  }

  /** Snapshot of the state machine at the applied index, compacting the log. */
  snapshotNow(): void {
    const s = this.core.status();
    if (this.appliedIndex <= (this.disk.snapshot?.meta.index ?? 0)) return;
    const term = this.core.log.term(this.appliedIndex);
    if (term === undefined) return;
    const snap: Snapshot = {
      meta: { index: this.appliedIndex, term, conf: s.conf },
      data: encode(this.applied),
    };
    this.core.compact(snap);
    this.disk.snapshot = snap;
    this.disk.entries = this.disk.entries.filter((e) => e.index > snap.meta.index);
  }
}

/** A network that delivers everything immediately, with optional cuts between members. */
export class Cluster {
  readonly nodes = new Map<MemberId, SimNode>();
  private cut = new Set<string>();
  delivered = 0;

  /** `voters`: the founding members (default all); the other nodes run but are outside the configuration. */
  constructor(ids: MemberId[], seed = 1, o: Partial<RaftConfig> = {}, voters: MemberId[] = ids) {
    const r = rng(seed);
    for (const id of ids) this.nodes.set(id, new SimNode(id, config(id, r, o), { voters, learners: [] }));
  }

  node(id: MemberId): SimNode {
    return this.nodes.get(id)!;
  }

  isolate(id: MemberId): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cutLink(id, other);
  }

  cutLink(a: MemberId, b: MemberId): void {
    this.cut.add(`${a}>${b}`).add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Processes ready output and delivers messages until nothing moves. */
  stabilize(max = 10_000): void {
    for (let round = 0; round < max; round++) {
      let moved = false;
      for (const n of this.nodes.values()) {
        for (const m of n.process()) {
          moved = true;
          this.deliver(m);
        }
      }
      // A leader's write finishing (see process) may commit and broadcast: quiet means nothing left to do.
      if (!moved && ![...this.nodes.values()].some((n) => n.up && (n.writing || n.core.hasReady()))) return;
    }
    throw new Error('cluster did not stabilize');
  }

  deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to?.up || this.cut.has(`${m.from}>${m.to}`)) return;
    this.delivered++;
    to.core.step(m);
  }

  tick(n = 1): void {
    for (let i = 0; i < n; i++) {
      for (const node of this.nodes.values()) if (node.up) node.core.tick();
      this.stabilize();
    }
  }

  leader(): SimNode | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.up && n.core.role === 'leader');
    return leaders.sort((a, b) => b.core.term - a.core.term)[0];
  }

  /** Elects `id` by timing it out first. */
  elect(id: MemberId): void {
    this.node(id).core.campaign();
    this.stabilize();
  }

  propose(data: string, via?: MemberId): number {
    const n = via ? this.node(via) : this.leader()!;
    const index = n.core.propose(Buffer.from(data));
    this.stabilize();
    return index;
  }
}
