// The daemon's composition root: data root, HTTP API and (as later issues land) worker and manager.
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger } from '../api/index.js';
import { DataRoot } from './data-root.js';
import { createHttpServer } from './http/server.js';
import { systemRoutes, type SystemState } from './http/system-routes.js';
import { DEFAULT_HOST, prepareSocket, removeSocket, restrictSocket, socketPathOf } from './api-socket.js';
import { SwarmMembership } from './swarm/membership.js';
import { swarmRoutes } from './swarm/routes.js';
import { controlRoutes, eventRoutes } from '../manager/index.js';
import { join } from 'node:path';
import { ContainerManager, ExecSessions, ImageStore } from '../runtime/index.js';
import { imageRoutes } from './http/image-routes.js';
import { containerRoutes } from './http/container-routes.js';
import { RuntimeExecutor, type Executor } from '../worker/index.js';
import { pullImage } from '../runtime/index.js';
import { MetricsServer, NodeMetrics } from './metrics/index.js';

export interface DaemonOptions {
  dataRoot: string;
  hosts?: string[];
  /** HOST:PORT to serve Prometheus metrics on (GET /metrics); off when absent. */
  metricsAddr?: string;
  /** Subnet of the gateway bridge overlay-attached containers reach the node through (tss_gwbridge). */
  gwbridgeSubnet?: string;
  log?: Logger;
}

export const DEFAULT_DATA_ROOT = '/var/lib/tsswarm';

export class Daemon {
  readonly log: Logger;
  private readonly dataRoot: DataRoot;
  private readonly socketPaths: string[];
  private servers: FastifyInstance[] = [];
  private started = false;
  private readonly swarm: SwarmMembership;
  private readonly images: ImageStore;
  private readonly containers: ContainerManager;
  private readonly executor: RuntimeExecutor;
  private readonly execs: ExecSessions;
  private readonly metrics?: NodeMetrics;
  private readonly metricsServer?: MetricsServer;

  constructor(readonly options: DaemonOptions) {
    this.log = options.log ?? createLogger({ component: 'daemon' });
    this.dataRoot = new DataRoot(options.dataRoot);
    this.socketPaths = (options.hosts?.length ? options.hosts : [DEFAULT_HOST]).map(socketPathOf);
    this.images = new ImageStore(join(options.dataRoot, 'image'));
    this.containers = new ContainerManager({
      dataRoot: options.dataRoot,
      images: this.images,
      log: this.log,
    });
    const metrics = options.metricsAddr
      ? new NodeMetrics({ isManager: () => this.swarm.isManager })
      : undefined;
    this.executor = new RuntimeExecutor({
      containers: this.containers,
      images: this.images,
      log: this.log.child({ component: 'executor' }),
      swarmNode: () => {
        const i = this.swarm.info();
        return i.NodeID ? { nodeId: i.NodeID, addr: i.NodeAddr } : undefined;
      },
      gwbridgeSubnet: options.gwbridgeSubnet,
      pull: metrics && ((ref) => metrics.timePull(() => pullImage(this.images, ref))),
    });
    const executor: Executor = metrics ? metrics.observeExecutor(this.executor) : this.executor;
    this.swarm = new SwarmMembership(
      options.dataRoot,
      this.log,
      executor,
      metrics && {
        manager: metrics.manager,
        heartbeat: (s) => metrics.heartbeat(s),
      },
    );
    if (metrics) {
      this.metrics = metrics;
      this.metricsServer = new MetricsServer(options.metricsAddr!, metrics, this.log);
    }
    this.execs = new ExecSessions(this.containers);
    this.images.setInUse((id) => this.containers.usesImage(id));
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.dataRoot.open();
    try {
      for (const path of this.socketPaths) await prepareSocket(path);
      await this.images.start();
      await this.containers.start();
      // Tasks' containers that outlived the daemon are adopted before the agent hears its assignments.
      await this.executor.start();
      await this.swarm.start();
      await this.metricsServer?.start();
      const state = this.systemState();
      for (const path of this.socketPaths) {
        const app = createHttpServer(this.log, [
          systemRoutes(state),
          swarmRoutes(this.swarm),
          controlRoutes(
            () => this.swarm.store(),
            () => this.swarm.readBarrier(),
            () => this.swarm.logs(),
          ),
          eventRoutes(this.swarm.events),
          imageRoutes(this.images),
          containerRoutes(this.containers, this.execs),
        ]);
        await app.listen({ path });
        restrictSocket(path);
        this.servers.push(app);
      }
    } catch (err) {
      await this.stop(true);
      throw err;
    }
    this.started = true;
    this.log.info('daemon started', { dataRoot: this.dataRoot.path, hosts: this.socketPaths.join(',') });
  }

  async stop(force = false): Promise<void> {
    if (!this.started && !force) return;
    this.started = false;
    const servers = this.servers;
    this.servers = [];
    await Promise.all(servers.map((s) => s.close()));
    await this.metricsServer?.stop();
    for (const path of this.socketPaths.slice(0, servers.length)) removeSocket(path);
    await this.swarm.stop();
    await this.executor.stop();
    await this.containers.stop();
    await this.images.stop();
    this.dataRoot.close();
    this.metrics?.close();
    this.log.info('daemon stopped');
  }

  private systemState(): SystemState {
    return {
      dataRoot: this.dataRoot.path,
      swarmHeader: () => this.swarm.header(),
      swarmInfo: () => this.swarm.info(),
      containerCounts: () => this.containers.counts(),
      imageCount: () => this.images.count(),
      labels: () => [],
    };
  }
}
