// The daemon's composition root: data root, HTTP API and (as later issues land) worker and manager.
import type { FastifyInstance } from 'fastify';
import { createLogger, type Logger, type SwarmInfo } from '../api/index.js';
import { DataRoot } from './data-root.js';
import { createHttpServer } from './http/server.js';
import { systemRoutes, type SystemState } from './http/system-routes.js';
import { DEFAULT_HOST, prepareSocket, removeSocket, restrictSocket, socketPathOf } from './api-socket.js';

export interface DaemonOptions {
  dataRoot: string;
  hosts?: string[];
  log?: Logger;
}

export const DEFAULT_DATA_ROOT = '/var/lib/tsswarm';

export class Daemon {
  readonly log: Logger;
  private readonly dataRoot: DataRoot;
  private readonly socketPaths: string[];
  private servers: FastifyInstance[] = [];
  private started = false;

  constructor(readonly options: DaemonOptions) {
    this.log = options.log ?? createLogger({ component: 'daemon' });
    this.dataRoot = new DataRoot(options.dataRoot);
    this.socketPaths = (options.hosts?.length ? options.hosts : [DEFAULT_HOST]).map(socketPathOf);
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.dataRoot.open();
    try {
      for (const path of this.socketPaths) await prepareSocket(path);
      const state = this.systemState();
      for (const path of this.socketPaths) {
        const app = createHttpServer(this.log, [systemRoutes(state)]);
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
    for (const path of this.socketPaths.slice(0, servers.length)) removeSocket(path);
    this.dataRoot.close();
    this.log.info('daemon stopped');
  }

  private systemState(): SystemState {
    const inactive: SwarmInfo = {
      NodeID: '',
      NodeAddr: '',
      LocalNodeState: 'inactive',
      ControlAvailable: false,
      Error: '',
      RemoteManagers: null,
    };
    return {
      dataRoot: this.dataRoot.path,
      swarmHeader: () => 'inactive',
      swarmInfo: () => inactive,
      containerCounts: () => ({ total: 0, running: 0, paused: 0, stopped: 0 }),
      imageCount: () => 0,
      labels: () => [],
    };
  }
}
