// This node's part in a swarm: `swarm init`, leaving, and running the manager when the node is one.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  Conflict,
  FailedPrecondition,
  InvalidArgument,
  NotManager,
  Unavailable,
  errorMessage,
  newId,
  type Logger,
  type Swarm,
  type SwarmInfo,
  type SwarmSpec,
} from '../../api/index.js';
import {
  EventsHub,
  Manager,
  newClusterObject,
  newIngressNetwork,
  type AllocatorUsage,
  requestRaftJoin,
  selfNodeObject,
  type LogService,
  type ManagerMetrics,
  type MemoryStore,
} from '../../manager/index.js';
import {
  ClusterChannel,
  createCluster,
  joinRequest,
  saveNodeCredentials,
  x509,
  identityOf,
  newJoinToken,
  rootDigest,
} from '../../pki/index.js';
import { Agent, type Executor } from '../../worker/index.js';
import { defaultAdvertiseHost, parseHostPort } from './addresses.js';
import { NodeIdentityFiles } from './identity.js';
import { certDir, clearSwarmState, loadSwarmState, saveSwarmState, type SwarmNodeState } from './state.js';

export interface JoinRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  RemoteAddrs?: string[];
  JoinToken?: string;
  Availability?: 'active' | 'pause' | 'drain';
}

export interface InitRequest {
  ListenAddr?: string;
  AdvertiseAddr?: string;
  DataPathPort?: number;
  DefaultAddrPool?: string[];
  SubnetSize?: number;
  ForceNewCluster?: boolean;
  Spec?: Partial<SwarmSpec>;
}

/** Where the node's swarm parts report metrics (absent without --metrics-addr). */
export interface SwarmMetricsHooks {
  manager: ManagerMetrics;
  /** One successful heartbeat's round trip to the dispatcher (seconds). */
  heartbeat: (seconds: number) => void;
}

export const ALREADY_IN_SWARM =
  'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
export const NOT_IN_SWARM = 'This node is not part of a swarm';
const INACTIVE_MANAGER_MESSAGE =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export class SwarmMembership {
  private state?: SwarmNodeState;
  private manager?: Manager;
  private agent?: Agent;
  /** This node's certificate, shared by its agent, its manager and the renewer. */
  private identity?: NodeIdentityFiles;
  private roleChange?: Promise<void>;
  private readonly dir: string;
  /** The node's events (GET /events): swarm events are published into it while this node is a manager. */
  readonly events = new EventsHub();

  constructor(
    dataRoot: string,
    private readonly log: Logger,
    /** Runs this node's tasks (every node is a worker, managers included). */
    private readonly executor?: Executor,
    private readonly metrics?: SwarmMetricsHooks,
  ) {
    this.dir = join(dataRoot, 'swarm');
  }

  /** A restarted daemon takes its place in the swarm again from its data root, without a token. */
  async start(): Promise<void> {
    const state = loadSwarmState(this.dir);
    if (!state) return;
    this.state = state;
    this.identity = NodeIdentityFiles.load(certDir(this.dir), this.log, () => this.managerAddresses());
    if (state.role === 'manager') await this.startManager(false);
    this.startAgent();
  }

  /** Managers to talk to: the Raft group's other members when this node is one, else those last known. */
  private managerAddresses(): string[] {
    const s = this.state;
    if (!s) return [];
    const others = this.manager
      ? this.manager
          .raftMembers()
          .filter((m) => m.id !== s.nodeId && m.addr)
          .map((m) => m.addr)
      : s.managers.map((m) => m.addr);
    // Other managers first: this manager's own dispatcher only serves while it leads.
    return [...others, ...(this.manager ? [s.advertiseAddr] : [])];
  }

  /** Every node, managers included, keeps a session with the dispatcher. */
  private startAgent(): void {
    const s = this.state!;
    this.agent = new Agent({
      managers: () => this.managerAddresses(),
      certificates: this.identity!.store,
      clusterId: s.clusterId,
      addr: s.advertiseAddr.replace(/:\d+$/, ''),
      onRole: (role) => this.followRole(role),
      onManagers: (addrs) => this.learnManagers(addrs),
      executor: this.executor,
      onHeartbeat: this.metrics?.heartbeat,
      log: this.log.child({ component: 'agent' }),
    });
    this.agent.start();
  }

  /** Keeps the managers the dispatcher names (a worker that joined before them fails over to them). */
  private learnManagers(addrs: string[]): void {
    const s = this.state;
    if (!s) return;
    const known = s.managers.map((m) => m.addr);
    if (known.length === addrs.length && addrs.every((a) => known.includes(a))) return;
    s.managers = addrs.map((addr) => ({ id: s.managers.find((m) => m.addr === addr)?.id ?? '', addr }));
    saveSwarmState(this.dir, s);
  }

  /** Promotion and demotion, as the cluster asks through the dispatcher (one change at a time). */
  private followRole(role: 'manager' | 'worker'): void {
    const s = this.state;
    const via = this.agent?.managerAddr;
    if (!s || !via || this.roleChange || role === s.role) return;
    const change = role === 'manager' ? this.becomeManager(via) : this.becomeWorker(via);
    this.roleChange = change
      .catch((err: unknown) =>
        this.log.warn(`could not become a ${role}; retrying at the next heartbeat`, {
          err: errorMessage(err),
        }),
      )
      .finally(() => (this.roleChange = undefined));
  }

  private async becomeManager(via: string): Promise<void> {
    const s = this.state!;
    if ((await this.identity!.renew(via)) !== 'swarm-manager') return;
    const channel = new ClusterChannel(via, this.identity!.store, s.clusterId);
    try {
      s.managers = (await requestRaftJoin(channel.client, s.advertiseAddr)).members.filter(
        (m) => m.id !== s.nodeId,
      );
    } finally {
      channel.close();
    }
    s.role = 'manager';
    saveSwarmState(this.dir, s);
    await this.startManager(false);
    this.restartAgent();
    this.log.info('promoted: this node is now a manager', { node: s.nodeId });
  }

  /** The dispatcher says "worker" only once the leader has taken this node out of the Raft group. */
  private async becomeWorker(via: string): Promise<void> {
    const s = this.state!;
    if ((await this.identity!.renew(via)) !== 'swarm-worker') return;
    const others = this.managerAddresses().filter((a) => a !== s.advertiseAddr);
    await this.manager?.stop();
    this.manager = undefined;
    rmSync(join(this.dir, 'raft'), { recursive: true, force: true });
    s.role = 'worker';
    s.managers = others.map((addr) => ({ id: '', addr }));
    saveSwarmState(this.dir, s);
    this.restartAgent();
    this.log.info('demoted: this node is now a worker', { node: s.nodeId });
  }

  private restartAgent(): void {
    this.agent?.stop();
    this.startAgent();
  }

  async join(req: JoinRequest): Promise<void> {
    if (this.state) throw new Unavailable(ALREADY_IN_SWARM);
    const remote = req.RemoteAddrs?.[0];
    if (!remote) throw new InvalidArgument('at least 1 RemoteAddr is required to join');
    if (!req.JoinToken) throw new InvalidArgument('a join token is required to join');
    const target = parseHostPort(remote, '', 'remote');
    if (!target.host) throw new InvalidArgument(`invalid remote address "${remote}"`);
    const listen = parseHostPort(req.ListenAddr, '0.0.0.0', 'listen');
    const advertiseHost = req.AdvertiseAddr
      ? parseHostPort(req.AdvertiseAddr, listen.host, 'advertise').host
      : defaultAdvertiseHost(listen.host);
    const joined = await joinRequest(`${target.host}:${target.port}`, req.JoinToken, {
      availability: req.Availability || undefined,
      timeoutMs: 10_000,
    }).catch((err: unknown) => {
      // grpc-js words an unreachable address as "No connection established. Last error: …. Resolution note: …".
      const last = /Last error: (?:Error: )?(.*?)\.?(?: Resolution note:.*)?$/s.exec(errorMessage(err));
      if (!last) throw err;
      throw new Unavailable(`could not reach a manager at ${target.host}:${target.port}: ${last[1]!.trim()}`);
    });
    const identity = identityOf(new x509.X509Certificate(joined.credentials.certPem))!;
    saveNodeCredentials(certDir(this.dir), joined.credentials);
    this.identity = NodeIdentityFiles.load(certDir(this.dir), this.log, () => this.managerAddresses());
    const role = identity.role === 'swarm-manager' ? 'manager' : 'worker';
    const state: SwarmNodeState = {
      nodeId: joined.nodeId,
      clusterId: joined.clusterId,
      role,
      listenAddr: `${listen.host}:${listen.port}`,
      advertiseAddr: `${advertiseHost}:${listen.port}`,
      managers: [{ id: '', addr: `${target.host}:${target.port}` }],
    };
    try {
      if (role === 'manager') {
        // Become a Raft member through the leader (as a learner, promoted once caught up).
        const channel = new ClusterChannel(
          `${target.host}:${target.port}`,
          this.identity.store,
          joined.clusterId,
        );
        try {
          state.managers = (await requestRaftJoin(channel.client, state.advertiseAddr)).members.filter(
            (m) => m.id !== joined.nodeId,
          );
        } finally {
          channel.close();
        }
      }
      this.state = state;
      saveSwarmState(this.dir, state);
      if (role === 'manager') await this.startManager(false);
    } catch (err) {
      await this.forget();
      throw err;
    }
    this.startAgent();
    this.log.info(`joined swarm as a ${role}`, { node: joined.nodeId, manager: remote });
  }

  private async startManager(bootstrap: boolean, forceNewCluster = false): Promise<Manager> {
    const s = this.state!;
    const identity = this.identity;
    if (!identity) throw new FailedPrecondition(`swarm state in ${this.dir} has no certificates`);
    const m = new Manager({
      dir: this.dir,
      nodeId: s.nodeId,
      clusterId: s.clusterId,
      listenAddr: s.listenAddr,
      advertiseAddr: s.advertiseAddr,
      credentials: identity.credentials,
      certificates: identity.store,
      forceNewCluster,
      bootstrap,
      peers: s.managers,
      log: this.log.child({ component: 'manager' }),
      metrics: this.metrics?.manager,
      events: this.events,
    });
    await m.start();
    this.manager = m;
    return m;
  }

  async init(req: InitRequest): Promise<string> {
    if (this.state && req.ForceNewCluster) return this.forceNewCluster();
    if (this.state) throw new Unavailable(ALREADY_IN_SWARM);
    const listen = parseHostPort(req.ListenAddr, '0.0.0.0', 'listen');
    const advertiseHost = req.AdvertiseAddr
      ? parseHostPort(req.AdvertiseAddr, listen.host, 'advertise').host
      : defaultAdvertiseHost(listen.host);
    // An advertise address without a port advertises the listen port.
    const advertisePort =
      req.AdvertiseAddr && /:\d+$/.test(req.AdvertiseAddr)
        ? parseHostPort(req.AdvertiseAddr, listen.host, 'advertise').port
        : listen.port;
    const pool = req.DefaultAddrPool?.length ? req.DefaultAddrPool : ['10.0.0.0/8'];
    const subnetSize = req.SubnetSize || 24;
    const cluster = await createCluster();
    saveNodeCredentials(certDir(this.dir), cluster.credentials);
    this.identity = NodeIdentityFiles.load(certDir(this.dir), this.log, () => this.managerAddresses());
    this.state = {
      nodeId: cluster.nodeId,
      clusterId: cluster.clusterId,
      role: 'manager',
      listenAddr: `${listen.host}:${listen.port}`,
      advertiseAddr: `${advertiseHost}:${advertisePort}`,
      managers: [],
    };
    saveSwarmState(this.dir, this.state);
    try {
      const m = await this.startManager(true);
      // The authority the manager runs must hand out the tokens the cluster object records.
      const tokens = m.authority.joinTokens;
      await m.waitForLeadership();
      await m.store.update((tx) => {
        tx.create(
          'cluster',
          newClusterObject({
            clusterId: cluster.clusterId,
            spec: req.Spec,
            rootCaPem: cluster.credentials.rootCaPem,
            tokens: { Worker: tokens.worker, Manager: tokens.manager },
            defaultAddrPool: pool,
            subnetSize,
            dataPathPort: req.DataPathPort || 4789,
          }),
        );
        // The routing mesh's network, first subnet of the pool, as Docker makes it at init.
        tx.create(
          'network',
          newIngressNetwork(
            newId(),
            { DefaultAddrPool: pool, SubnetSize: subnetSize },
            new Date().toISOString(),
          ),
        );
        tx.create(
          'node',
          selfNodeObject({
            nodeId: cluster.nodeId,
            role: 'manager',
            addr: advertiseHost,
            managerAddr: this.state!.advertiseAddr,
            leader: true,
          }),
        );
      });
    } catch (err) {
      await this.forget();
      throw err;
    }
    this.startAgent();
    this.log.info('swarm initialized', { node: cluster.nodeId, cluster: cluster.clusterId });
    return cluster.nodeId;
  }

  /**
   * `swarm init --force-new-cluster` on a manager that lost quorum: restart its Raft member as the only member of
   * a new group that keeps the replicated state (services, nodes, secrets, tokens, CA).
   */
  private async forceNewCluster(): Promise<string> {
    const s = this.state!;
    if (s.role !== 'manager')
      throw new InvalidArgument('--force-new-cluster can only be used on a manager node');
    this.agent?.stop();
    this.agent = undefined;
    await this.manager?.stop();
    this.manager = undefined;
    s.managers = [];
    saveSwarmState(this.dir, s);
    const m = await this.startManager(false, true);
    await m.waitForLeadership();
    this.startAgent();
    this.log.warn("forced a new one-manager cluster from this node's state", { node: s.nodeId });
    return s.nodeId;
  }

  /** `swarm update`: the spec (defaults kept for zero values) and token rotation, with Docker's version check. */
  async update(
    version: number,
    spec: Partial<SwarmSpec>,
    rotate: { worker: boolean; manager: boolean },
  ): Promise<void> {
    const m = this.manager;
    if (!m) throw new NotManager(this.state ? undefined : INACTIVE_MANAGER_MESSAGE);
    const digest = rootDigest(m.authority.rootCA);
    await m.store.update((tx) => {
      const c = tx.all('cluster')[0];
      if (!c) throw new Unavailable('the swarm is still starting');
      if (c.Version.Index !== version) throw new Conflict('update out of sequence');
      const next = newClusterObject({
        clusterId: c.ID,
        spec,
        rootCaPem: c.TLSInfo.TrustRoot,
        tokens: {
          Worker: rotate.worker ? newJoinToken(digest) : c.JoinTokens.Worker,
          Manager: rotate.manager ? newJoinToken(digest) : c.JoinTokens.Manager,
        },
        defaultAddrPool: c.DefaultAddrPool,
        subnetSize: c.SubnetSize,
        dataPathPort: c.DataPathPort,
      });
      tx.update('cluster', {
        ...next,
        RemovedNodes: c.RemovedNodes,
        Version: c.Version,
        CreatedAt: c.CreatedAt,
      });
    });
  }

  /** Stops this node's swarm parts and erases its swarm state (leave, or a failed init/join). */
  private async forget(): Promise<void> {
    this.identity?.stop();
    this.identity = undefined;
    this.agent?.stop();
    this.agent = undefined;
    await this.manager?.stop();
    this.manager = undefined;
    this.state = undefined;
    clearSwarmState(this.dir);
  }

  async leave(force: boolean): Promise<void> {
    if (!this.state) throw new Unavailable(NOT_IN_SWARM);
    if (this.state.role === 'manager' && !force) {
      const managers = this.manager?.store.view((tx) => tx.find('node', 'role', 'manager').length) ?? 1;
      if (managers <= 1) {
        throw new Unavailable(
          'You are attempting to leave the swarm on a node that is participating as a manager. Removing the last manager erases all current state of the swarm. Use `--force` to ignore this message.',
        );
      }
      throw new Unavailable(
        'You are attempting to leave the swarm on a node that is participating as a manager. Removing this node leaves ' +
          `${managers - 1} managers out of ${managers}. Without a Raft quorum your swarm will be inaccessible. The only way to restore a swarm that has lost consensus is to reinitialize it with \`--force-new-cluster\`. Use \`--force\` to suppress this message.`,
      );
    }
    await this.forget();
  }

  /** The store of a manager; other nodes answer as Docker's workers do. */
  /** What the allocator holds (leader only; undefined elsewhere or before its first pass). */
  allocatorUsage(): AllocatorUsage | undefined {
    return this.manager?.allocator.usage();
  }

  store(): MemoryStore {
    if (!this.state) throw new NotManager(INACTIVE_MANAGER_MESSAGE);
    if (!this.manager) throw new NotManager();
    return this.manager.store;
  }

  /** Service and task logs (a manager's; through the leader). */
  logs(): LogService {
    this.store();
    return this.manager!.logs;
  }

  swarm(): Swarm {
    const cluster = this.store().view((tx) => tx.all('cluster')[0]);
    if (!cluster) throw new Unavailable('the swarm is still starting');
    const { RemovedNodes: _internal, ...shown } = cluster;
    return shown;
  }

  /** Whether this node runs a manager now. */
  get isManager(): boolean {
    return this.manager !== undefined;
  }

  header(): string {
    if (!this.state) return 'inactive';
    return `active/${this.state.role}`;
  }

  info(): SwarmInfo {
    if (!this.state)
      return {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      };
    const s = this.state;
    const info: SwarmInfo = {
      NodeID: s.nodeId,
      NodeAddr: s.advertiseAddr.replace(/:\d+$/, ''),
      LocalNodeState: this.agent?.removal ? 'error' : 'active',
      ControlAvailable: s.role === 'manager',
      Error: this.agent?.removal ?? '',
      // A manager lists the Raft group, as Docker does; a worker the managers it knows.
      RemoteManagers: this.manager
        ? this.manager.raftMembers().map((m) => ({ NodeID: m.id, Addr: m.addr }))
        : s.managers.map((m) => ({ NodeID: m.id, Addr: m.addr })),
    };
    if (this.manager) {
      const { nodes, managers, cluster } = this.manager.store.view((tx) => ({
        nodes: tx.all('node').length,
        managers: tx.find('node', 'role', 'manager').length,
        cluster: tx.all('cluster')[0],
      }));
      info.Nodes = nodes;
      info.Managers = managers;
      if (cluster) {
        const { JoinTokens: _omit, RemovedNodes: _internal, ...rest } = cluster;
        info.Cluster = rest;
      }
    }
    return info;
  }

  /** A linearizable read barrier for API reads that ask for one. */
  async readBarrier(): Promise<void> {
    if (!this.manager) throw new NotManager(this.state ? undefined : INACTIVE_MANAGER_MESSAGE);
    await this.manager.readBarrier();
  }

  async stop(): Promise<void> {
    this.identity?.stop();
    this.agent?.stop();
    this.agent = undefined;
    await this.manager?.stop();
    this.manager = undefined;
  }
}
