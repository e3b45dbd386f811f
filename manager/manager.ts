// A manager: the cluster RPC server (mTLS), the Raft member replicating the store, and the CA.
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { createLogger, Unavailable, type Logger } from '../api/index.js';
import { GrpcTransport, RaftNode, type LeaderChange } from '../raft/index.js';
import {
  Authorizer,
  CertificateAuthority,
  CertificateStore,
  MANAGER_ROLE,
  addCAService,
  clientCredentials,
  loadRootCA,
  serverCredentials,
  type NodeCredentials,
} from '../pki/index.js';
import { MemoryStore } from './store/index.js';
import { StoreStateMachine } from './store-state-machine.js';
import { StoreNodeRegistry } from './node-registry.js';
import { Dispatcher } from './dispatcher/index.js';
import { MembershipService, RoleManager } from './membership/index.js';
import { OrchestratorLoop } from './orchestrator/index.js';
import { SchedulerLoop } from './scheduling/index.js';
import { Allocator } from './allocator/index.js';
import { addLogService, LogService } from './logs/index.js';
import { addStoreService, ForwardingProposer, NO_LEADER_MESSAGE } from './store-forwarding.js';
import type { ManagerMetrics } from './metrics/index.js';
import type { EventsHub } from './events/index.js';

export interface ManagerOptions {
  /** <data-root>/swarm */
  dir: string;
  nodeId: string;
  clusterId: string;
  listenAddr: string;
  advertiseAddr: string;
  credentials: NodeCredentials;
  /** The node's certificate store (shared with its agent and renewer); made from `credentials` when absent. */
  certificates?: CertificateStore;
  /** Disaster recovery: restart as a one-member cluster keeping the replicated state. */
  forceNewCluster?: boolean;
  /** Start a new cluster with this node as its only member. */
  bootstrap: boolean;
  peers?: { id: string; addr: string }[];
  tickMs?: number;
  log?: Logger;
  /** The daemon's manager collectors: fed by the store and Raft, attached while this manager runs. */
  metrics?: ManagerMetrics;
  /** The node's event hub: publishes the swarm events of the changes this manager applies while it runs. */
  events?: EventsHub;
}

export class Manager {
  readonly store: MemoryStore;
  readonly raft: RaftNode;
  readonly certificates: CertificateStore;
  readonly authority: CertificateAuthority;
  readonly dispatcher: Dispatcher;
  /** Service and task logs from the agents (through the leader). */
  readonly logs: LogService;
  private readonly membership: MembershipService;
  private readonly roles: RoleManager;
  private readonly orchestrator: OrchestratorLoop;
  private readonly scheduler: SchedulerLoop;
  /** Network addresses, VIPs and published ports (leader-only). */
  readonly allocator: Allocator;
  private readonly forwarder: ForwardingProposer;
  private readonly server: grpc.Server;
  private readonly transport: GrpcTransport;
  private readonly log: Logger;
  private started = false;
  private detachEvents?: () => void;

  constructor(readonly o: ManagerOptions) {
    this.log = o.log ?? createLogger({ component: 'manager', node: o.nodeId });
    this.certificates = o.certificates ?? new CertificateStore(o.credentials);
    const root = loadRootCA(o.credentials.rootCaPem, o.credentials.caKeyPem);
    this.store = new MemoryStore({
      proposer: { propose: (data) => this.forwarder.propose(data) },
      observer: o.metrics?.storeObserver,
    });
    const registry = new StoreNodeRegistry(this.store);
    this.authority = new CertificateAuthority({
      rootCA: root,
      clusterId: o.clusterId,
      registry,
      // The cluster object holds the tokens, so every manager (and a restarted one) accepts the same ones.
      tokenSource: () => {
        const c = this.store.view((tx) => tx.all('cluster')[0]);
        return c ? { worker: c.JoinTokens.Worker, manager: c.JoinTokens.Manager } : undefined;
      },
    });
    const authz = new Authorizer({
      rootCA: () => root,
      clusterId: () => o.clusterId,
      isRemoved: (id) => registry.isRemoved(id),
    });
    this.transport = new GrpcTransport({
      credentials: clientCredentials(this.certificates, o.clusterId),
      authorize: async (call) => void (await authz.require(call as never, [MANAGER_ROLE])),
      log: this.log,
    });
    this.raft = new RaftNode({
      id: o.nodeId,
      dir: join(o.dir, 'raft'),
      stateMachine: new StoreStateMachine(() => this.store),
      transport: this.transport,
      addr: o.advertiseAddr,
      bootstrap: o.bootstrap ? [{ id: o.nodeId, addr: o.advertiseAddr }] : undefined,
      peers: o.peers,
      forceNewCluster: o.forceNewCluster,
      tickMs: o.tickMs ?? 100,
      log: this.log,
      observer: o.metrics?.raftObserver,
    });
    this.forwarder = new ForwardingProposer(
      this.raft,
      () => this.store,
      this.certificates,
      o.clusterId,
      (id) => this.transport.peerAddress(id),
    );
    this.server = new grpc.Server({ 'grpc.max_receive_message_length': 8 * 1024 * 1024 });
    this.transport.register(this.server, {
      onMessage: (m) => this.raft.receive(m),
      onUnreachable: (id) => this.raft.reportUnreachable(id),
      onSnapshotStatus: (id, ok) => this.raft.reportSnapshot(id, ok),
    });
    addCAService(this.server, () => this.authority, authz);
    addStoreService(this.server, this.raft, authz);
    this.dispatcher = new Dispatcher(this.store, authz, {
      heartbeatPeriodMs: () =>
        (this.store.view((tx) => tx.all('cluster')[0])?.Spec.Dispatcher.HeartbeatPeriod ?? 5e9) / 1e6,
      isLeader: () => this.raft.isLeader,
      isRaftMember: (id) => this.raftMembers().some((m) => m.id === id),
      log: this.log,
    });
    this.dispatcher.register(this.server);
    const broker = () => (this.raft.isLeader ? this.dispatcher.logs : undefined);
    addLogService(this.server, broker, authz);
    this.logs = new LogService({
      broker,
      leaderAddress: () => (this.raft.leader ? this.transport.peerAddress(this.raft.leader) : undefined),
      certificates: this.certificates,
      clusterId: o.clusterId,
      log: this.log,
    });
    this.membership = new MembershipService(
      this.raft,
      authz,
      { id: o.nodeId, addr: o.advertiseAddr },
      (id) => this.transport.peerAddress(id),
      (id, addr) => this.recordManager(id, addr),
      this.log,
    );
    this.membership.register(this.server);
    this.roles = new RoleManager(this.raft, this.store, this.log);
    this.orchestrator = new OrchestratorLoop(this.store, this.log.child({ component: 'orchestrator' }));
    this.allocator = new Allocator(this.store, this.log.child({ component: 'allocator' }));
    this.scheduler = new SchedulerLoop(this.store, this.log.child({ component: 'scheduler' }));
    // Leader-only subsystems follow leadership.
    this.raft.onLeaderChange((c) => {
      if (c.isLeader) {
        this.dispatcher.start();
        this.membership.start();
        this.roles.start();
        this.orchestrator.start();
        this.allocator.start();
        this.scheduler.start();
        void this.markLeader().catch((err: Error) =>
          this.log.warn('could not record leadership', { err: err.message }),
        );
      } else {
        this.dispatcher.stop();
        this.membership.stop();
        this.roles.stop();
        this.orchestrator.stop();
        this.allocator.stop();
        this.scheduler.stop();
      }
    });
  }

  async start(): Promise<void> {
    if (this.started) return;
    await new Promise<number>((resolve, reject) =>
      this.server.bindAsync(this.o.listenAddr, serverCredentials(this.certificates), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    await this.raft.start();
    this.started = true;
    this.o.metrics?.attach(this);
    this.detachEvents = this.o.events?.attach(this.store, this.log);
    this.log.info('manager started', { listen: this.o.listenAddr, advertise: this.o.advertiseAddr });
  }

  get isLeader(): boolean {
    return this.raft.isLeader;
  }

  onLeaderChange(l: (c: LeaderChange) => void): () => void {
    return this.raft.onLeaderChange(l);
  }

  /** A linearizable read: resolves once this replica has applied everything committed before the call. */
  async readBarrier(): Promise<void> {
    try {
      await this.raft.readBarrier(5000);
    } catch {
      throw new Unavailable(NO_LEADER_MESSAGE);
    }
  }

  /** The Raft group: members and their cluster addresses (Docker's Swarm.RemoteManagers on a manager). */
  raftMembers(): { id: string; addr: string }[] {
    const conf = this.raft.status().conf;
    return [...conf.voters, ...conf.learners].map((id) => ({
      id,
      addr: id === this.o.nodeId ? this.o.advertiseAddr : (this.transport.peerAddress(id) ?? ''),
    }));
  }

  /** Resolves once this manager leads (a single-member cluster elects itself within an election timeout). */
  async waitForLeadership(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.raft.isLeader) {
      if (Date.now() > deadline) throw new Unavailable('this manager did not become leader in time');
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** ManagerStatus.Leader follows Raft: the new leader marks itself and clears the others. */
  private async markLeader(): Promise<void> {
    await this.store.update((tx) => {
      for (const n of tx.find('node', 'role', 'manager')) {
        const leader = n.ID === this.o.nodeId;
        if (n.ManagerStatus && n.ManagerStatus.Leader === leader) continue;
        // Reachability stays as it was (the old leader may be dead); the role manager keeps it true.
        n.ManagerStatus = {
          Addr: leader ? this.o.advertiseAddr : (n.ManagerStatus?.Addr ?? ''),
          Reachability: leader ? 'reachable' : (n.ManagerStatus?.Reachability ?? 'reachable'),
          Leader: leader,
        };
        tx.update('node', n);
      }
    });
  }

  private async recordManager(id: string, addr: string): Promise<void> {
    await this.store.update((tx) => {
      const n = tx.get('node', id);
      if (!n) return;
      n.Spec.Role = 'manager';
      n.ManagerStatus = { Addr: addr, Reachability: 'reachable', Leader: false };
      tx.update('node', n);
    });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.o.metrics?.detach(this);
    this.detachEvents?.();
    this.detachEvents = undefined;
    this.membership.stop();
    this.roles.stop();
    this.orchestrator.stop();
    this.allocator.stop();
    this.scheduler.stop();
    this.dispatcher.stop();
    this.forwarder.close();
    this.logs.close();
    await this.raft.stop();
    this.transport.stop();
    this.server.forceShutdown();
  }
}
