// A deterministic cluster simulator: seeded network faults (drops, delays, reordering, duplication, symmetric and
// asymmetric partitions), crashes that lose everything not persisted, restarts from disk, snapshots, and client
// proposals. Raft's safety properties are checked after every step.
import { FailedPrecondition, Unavailable } from '../../../../api/index.js';
import type { ConfChange, Message, RaftConfig, ReadState } from '../../../../raft/index.js';
import { Cluster, rng, SimNode } from '../../../support/raft-harness.js';

export interface SimOptions {
  nodes: number;
  steps: number;
  dropRate: number;
  dupRate: number;
  maxDelay: number;
  crashRate: number;
  partitionRate: number;
  /** Founding voters (the first n nodes); the rest are spares the leader adds and removes at random. */
  founders?: number;
  /** Overrides of the members' Raft configuration (e.g. one entry per append, to expose commit-rule bugs). */
  raft?: Partial<RaftConfig>;
}

export const DEFAULT_SIM: SimOptions = {
  nodes: 3,
  steps: 1500,
  dropRate: 0.05,
  dupRate: 0.02,
  maxDelay: 4,
  crashRate: 0.003,
  partitionRate: 0.01,
};

interface InFlight {
  m: Message;
  at: number;
}

export class Simulation {
  readonly cluster: Cluster;
  private readonly random: () => number;
  private now = 0;
  private network: InFlight[] = [];
  private cuts = new Set<string>();
  private leaderOfTerm = new Map<number, string>();
  /**
   * index -> data of every applied (hence committed) entry anywhere, and a bound on the term it was committed in:
   * the highest term any node had when it was first applied.
   */
  private committed = new Map<number, { data: string; term: number }>();
  private crashedUntil = new Map<string, number>();
  private seq = 0;
  readonly acked = new Set<string>();
  proposals = 0;
  /** Highest index applied anywhere: a read issued now must be answered with an index at least this high. */
  private appliedAnywhere = 0;
  private readFloor = new Map<string, number>();
  reads = 0;
  transfers = 0;
  confChanges = 0;

  constructor(
    readonly seed: number,
    readonly o: SimOptions = DEFAULT_SIM,
  ) {
    const ids = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
    this.cluster = new Cluster(ids, seed, o.raft, ids.slice(0, o.founders ?? o.nodes));
    this.random = rng(seed * 7919 + 1);
  }

  private fail(what: string): never {
    throw new Error(`seed ${this.seed} step ${this.now}: ${what}`);
  }

  private onApply = (node: SimNode, index: number, data: string): void => {
    let term = 0;
    for (const n of this.cluster.nodes.values()) term = Math.max(term, n.core.term);
    const seen = this.committed.get(index);
    if (seen !== undefined && seen.data !== data)
      this.fail(`state machine safety: ${node.id} applied ${data} at ${index}, others applied ${seen.data}`);
    if (!seen) this.committed.set(index, { data, term });
    this.appliedAnywhere = Math.max(this.appliedAnywhere, index);
    // The node that proposed it acknowledges the client once it applies the entry.
    if (data.startsWith(`${node.id}/`)) this.acked.add(data);
  };

  /** ReadIndex linearizability: the index returned covers everything committed before the read was issued. */
  private onRead = (node: SimNode, r: ReadState): void => {
    const ctx = Buffer.from(r.requestCtx).toString();
    const floor = this.readFloor.get(ctx);
    if (floor === undefined) this.fail(`${node.id} got an answer to unknown read ${ctx}`);
    if (r.index < floor)
      this.fail(
        `stale read: ${node.id} got index ${r.index} for ${ctx}, but ${floor} was applied before it was issued`,
      );
    // Kept: a duplicated request or answer may be answered again, and must be just as fresh.
    this.reads++;
  };

  private pump(node: SimNode): void {
    for (const m of node.process(this.onApply, this.onRead)) {
      if (this.random() < this.o.dropRate) {
        // Snapshots travel on their own stream whose failure the transport reports to the sender.
        if (m.type === 'snap') node.core.reportSnapshot(m.to, false);
        continue;
      }
      const copies = this.random() < this.o.dupRate ? 2 : 1;
      for (let c = 0; c < copies; c++)
        this.network.push({ m, at: this.now + Math.floor(this.random() * (this.o.maxDelay + 1)) });
    }
  }

  step(faults = true): void {
    this.now++;
    const nodes = [...this.cluster.nodes.values()];
    // Deliver due messages in a random order (reordering).
    const due = this.network.filter((f) => f.at <= this.now);
    this.network = this.network.filter((f) => f.at > this.now);
    for (let i = due.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [due[i], due[j]] = [due[j]!, due[i]!];
    }
    for (const { m } of due) {
      const to = this.cluster.nodes.get(m.to);
      const ok = !!to?.up && !this.cuts.has(`${m.from}>${m.to}`);
      if (m.type === 'snap') {
        const from = this.cluster.nodes.get(m.from);
        if (from?.up) from.core.reportSnapshot(m.to, ok);
      }
      if (ok) to!.core.step(m);
    }
    if (this.now % 2 === 0) for (const n of nodes) if (n.up) n.core.tick();
    // Clients propose to whoever believes it leads (not while settling: that waits for quiescence).
    if (faults && this.random() < 0.3) {
      const leaders = nodes.filter((n) => n.up && n.core.role === 'leader');
      const l = leaders[Math.floor(this.random() * leaders.length)];
      if (l) {
        try {
          l.core.propose(Buffer.from(`${l.id}/${this.seq++}`));
          this.proposals++;
        } catch {
          // Not accepted (e.g. a transfer in progress): the client would retry elsewhere.
        }
      }
    }
    if (faults) this.clientReadsAndTransfers(nodes);
    for (const n of nodes) if (n.up) this.pump(n);
    for (const n of nodes)
      if (n.up && n.appliedIndex - (n.disk.snapshot?.meta.index ?? 0) > 25 && this.random() < 0.05)
        n.snapshotNow();
    if (faults) this.injectFaults(nodes);
    this.checkInvariants(nodes);
  }

  private clientReadsAndTransfers(nodes: SimNode[]): void {
    const up = nodes.filter((n) => n.up);
    if (up.length > 0 && this.random() < 0.05) {
      const n = up[Math.floor(this.random() * up.length)]!;
      const ctx = `read-${this.seq++}`;
      try {
        this.readFloor.set(ctx, this.appliedAnywhere);
        n.core.readIndex(Buffer.from(ctx));
      } catch {
        this.readFloor.delete(ctx); // no leader known: the client would retry elsewhere
      }
    }
    const leader = up.find((n) => n.core.role === 'leader');
    if (leader && this.o.founders !== undefined && this.random() < 0.01) this.changeMembership(leader, nodes);
    if (leader && this.random() < 0.004) {
      const voters = leader.core.status().conf.voters.filter((v) => v !== leader.id);
      const to = voters[Math.floor(this.random() * voters.length)];
      if (to) {
        leader.core.transferLeadership(to);
        this.transfers++;
      }
    }
  }

  /** One random membership change: add a spare as learner, promote a learner, or remove someone (even the leader). */
  private changeMembership(leader: SimNode, nodes: SimNode[]): void {
    const { voters, learners } = leader.core.status().conf;
    const spares = nodes.map((n) => n.id).filter((id) => !voters.includes(id) && !learners.includes(id));
    const pick = <T>(xs: T[]): T => xs[Math.floor(this.random() * xs.length)]!;
    const options: ConfChange[] = [];
    if (spares.length) options.push({ type: 'addLearner', id: pick(spares) });
    if (learners.length)
      options.push({ type: 'addVoter', id: pick(learners) }, { type: 'remove', id: pick(learners) });
    if (voters.length > 3) options.push({ type: 'remove', id: pick(voters) });
    if (options.length === 0) return;
    try {
      leader.core.proposeConfChange(pick(options));
      this.confChanges++;
    } catch (err) {
      // One change at a time, or a transfer in progress: try again later.
      if (!(err instanceof FailedPrecondition) && !(err instanceof Unavailable)) throw err;
    }
  }

  private injectFaults(nodes: SimNode[]): void {
    for (const n of nodes) {
      const until = this.crashedUntil.get(n.id);
      if (!n.up && until !== undefined && this.now >= until) {
        n.restart();
        this.crashedUntil.delete(n.id);
      } else if (
        n.up &&
        this.random() < this.o.crashRate &&
        this.crashedUntil.size < Math.floor((nodes.length - 1) / 2) + 1
      ) {
        // Crash: the core's memory (unpersisted entries, soft state) is gone; the disk stays.
        n.up = false;
        this.crashedUntil.set(n.id, this.now + 5 + Math.floor(this.random() * 60));
      }
    }
    if (this.random() < this.o.partitionRate) {
      this.cuts.clear();
      if (this.random() < 0.6) {
        const ids = nodes.map((n) => n.id);
        const pick = ids[Math.floor(this.random() * ids.length)]!;
        const asymmetric = this.random() < 0.3;
        for (const other of ids) {
          if (other === pick) continue;
          this.cuts.add(`${pick}>${other}`);
          if (!asymmetric) this.cuts.add(`${other}>${pick}`);
        }
      }
    }
  }

  private checkInvariants(nodes: SimNode[]): void {
    for (const n of nodes) {
      if (!n.up || n.core.role !== 'leader') continue;
      const prev = this.leaderOfTerm.get(n.core.term);
      if (prev !== undefined && prev !== n.id)
        this.fail(`election safety: ${prev} and ${n.id} both lead term ${n.core.term}`);
      this.leaderOfTerm.set(n.core.term, n.id);
    }
    // Log matching: equal terms at an index imply equal prefixes.
    const up = nodes.filter((n) => n.up);
    for (let a = 0; a < up.length; a++) {
      for (let b = a + 1; b < up.length; b++) {
        const la = up[a]!.core.log;
        const lb = up[b]!.core.log;
        const lo = Math.max(la.snapIndex, lb.snapIndex) + 1;
        let i = Math.min(la.lastIndex(), lb.lastIndex());
        while (i >= lo && la.term(i) !== lb.term(i)) i--;
        for (let j = i; j >= lo; j--) {
          if (la.term(j) !== lb.term(j))
            this.fail(`log matching: ${up[a]!.id} and ${up[b]!.id} agree at ${i} but differ at ${j}`);
        }
      }
    }
    // Leader completeness: an entry committed in term T is in the log of every leader of a term > T. (A stale
    // leader cut off from newer ones may lack entries committed after its term, even entries of older terms.)
    for (const l of up.filter((n) => n.core.role === 'leader')) {
      const log = l.core.log;
      for (const [index, { data, term }] of this.committed) {
        if (index <= log.snapIndex || term >= l.core.term) continue;
        const e = log.slice(index, index + 1)[0];
        if (!e || Buffer.from(e.data).toString() !== data)
          this.fail(
            `leader completeness: leader ${l.id} (term ${l.core.term}) lacks committed ${data} at ${index}`,
          );
      }
    }
  }

  /** The leader of the highest term. */
  leader(): SimNode | undefined {
    return [...this.cluster.nodes.values()]
      .filter((n) => n.up && n.core.role === 'leader')
      .sort((a, b) => b.core.term - a.core.term)[0];
  }

  members(leader: SimNode): SimNode[] {
    const { voters, learners } = leader.core.status().conf;
    return [...voters, ...learners].map((id) => this.cluster.nodes.get(id)!);
  }

  /** Heals everything and runs until all nodes applied the same log; returns the common applied sequence. */
  settle(maxSteps = 4000): string[] {
    this.cuts.clear();
    for (const n of this.cluster.nodes.values()) if (!n.up) n.restart();
    this.crashedUntil.clear();
    const saved = { ...this.o };
    Object.assign(this.o, { dropRate: 0, dupRate: 0 });
    try {
      let stable = 0;
      for (let i = 0; i < maxSteps; i++) {
        this.step(false);
        const leader = this.leader();
        // Only current members must catch up; removed nodes and spares are left where they are.
        const members = leader ? this.members(leader) : [];
        const done =
          !!leader &&
          leader.core.log.committed === leader.core.log.lastIndex() &&
          members.every((n) => n.appliedIndex === leader.core.log.committed);
        stable = done ? stable + 1 : 0;
        // Converged, and no proposal in flight changed it for a while.
        if (stable >= 20) return leader!.applied;
      }
    } finally {
      Object.assign(this.o, saved);
    }
    this.fail('cluster did not converge after healing');
  }
}
