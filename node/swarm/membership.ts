// This node's part in a swarm: `swarm init`, leaving, and running the manager when the node is one.
import { join } from 'node:path';
import {
  Conflict,
  FailedPrecondition,
  InvalidArgument,
  NotManager,
  Unavailable,
  type Logger,
  type Swarm,
  type SwarmInfo,
  type SwarmSpec,
} from '../../api/index.js';
import {
  Manager,
  newClusterObject,
  requestRaftJoin,
  selfNodeObject,
  type MemoryStore,
} from '../../manager/index.js';
import {
  CertificateStore,
  ClusterChannel,
  createCluster,
  joinRequest,
  loadNodeCredentials,
  saveNodeCredentials,
  x509,
  identityOf,
  newJoinToken,
  rootDigest,
} from '../../pki/index.js';
import { Agent } from '../../worker/index.js';
import { defaultAdvertiseHost, parseHostPort } from './addresses.js';
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

export const ALREADY_IN_SWARM =
  'This node is already part of a swarm. Use "docker swarm leave" to leave this swarm and join another one.';
export const NOT_IN_SWARM = 'This node is not part of a swarm';
const INACTIVE_MANAGER_MESSAGE =
  'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export class SwarmMembership {
  private state?: SwarmNodeState;
  private manager?: Manager;
  private agent?: Agent;
  private readonly dir: string;

  constructor(
    dataRoot: string,
    private readonly log: Logger,
  ) {
    this.dir = join(dataRoot, 'swarm');
  }

  /** A restarted daemon takes its place in the swarm again from its data root, without a token. */
  async start(): Promise<void> {
    const state = loadSwarmState(this.dir);
    if (!state) return;
    this.state = state;
    if (state.role === 'manager') await this.startManager(false);
    this.startAgent();
  }

  /** Every node, managers included, keeps a session with the dispatcher. */
  private startAgent(): void {
    const s = this.state!;
    const credentials = loadNodeCredentials(certDir(this.dir));
    if (!credentials) return;
    // Other managers first: this manager's own dispatcher only serves while it leads.
    const managers = [...s.managers.map((m) => m.addr), ...(s.role === 'manager' ? [s.advertiseAddr] : [])];
    this.agent = new Agent({
      managers: () => managers,
      certificates: new CertificateStore(credentials),
      clusterId: s.clusterId,
      addr: s.advertiseAddr.replace(/:\d+$/, ''),
      log: this.log.child({ component: 'agent' }),
    });
    this.agent.start();
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
    });
    const identity = identityOf(new x509.X509Certificate(joined.credentials.certPem))!;
    saveNodeCredentials(certDir(this.dir), joined.credentials);
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
          new CertificateStore(joined.credentials),
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

  private async startManager(bootstrap: boolean): Promise<Manager> {
    const s = this.state!;
    const credentials = loadNodeCredentials(certDir(this.dir));
    if (!credentials) throw new FailedPrecondition(`swarm state in ${this.dir} has no certificates`);
    const m = new Manager({
      dir: this.dir,
      nodeId: s.nodeId,
      clusterId: s.clusterId,
      listenAddr: s.listenAddr,
      advertiseAddr: s.advertiseAddr,
      credentials,
      bootstrap,
      peers: s.managers,
      log: this.log.child({ component: 'manager' }),
    });
    await m.start();
    this.manager = m;
    return m;
  }

  async init(req: InitRequest): Promise<string> {
    if (this.state) throw new Unavailable(ALREADY_IN_SWARM);
    if (req.ForceNewCluster)
      throw new InvalidArgument('--force-new-cluster needs an existing swarm state on this node');
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
  store(): MemoryStore {
    if (!this.state) throw new NotManager(INACTIVE_MANAGER_MESSAGE);
    if (!this.manager) throw new NotManager();
    return this.manager.store;
  }

  swarm(): Swarm {
    const cluster = this.store().view((tx) => tx.all('cluster')[0]);
    if (!cluster) throw new Unavailable('the swarm is still starting');
    const { RemovedNodes: _internal, ...shown } = cluster;
    return shown;
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
      LocalNodeState: 'active',
      ControlAvailable: s.role === 'manager',
      Error: '',
      RemoteManagers:
        s.role === 'manager'
          ? [{ NodeID: s.nodeId, Addr: s.advertiseAddr }]
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

  async stop(): Promise<void> {
    this.agent?.stop();
    this.agent = undefined;
    await this.manager?.stop();
    this.manager = undefined;
  }
}
