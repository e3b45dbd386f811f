// manager/controlapi: the Docker Engine API routes served from the replicated store.
import type { FastifyInstance } from 'fastify';
import type { StoreSource } from './store-source.js';
import { serviceRoutes } from './services.js';
import { taskRoutes } from './tasks.js';
import { configRoutes, secretRoutes } from './secrets-configs.js';
import { nodeRoutes } from './nodes.js';
import { networkRoutes } from './networks.js';
import { logRoutes } from './logs.js';
import type { LogService } from '../logs/index.js';

export { parseFilters, type Filters } from './filters.js';
export { lookup } from './lookup.js';
export { taskName, isUpToDate } from './tasks.js';
export { serviceStatus } from './services.js';
export { networkInUse, networkResource } from './networks.js';
export type { StoreSource } from './store-source.js';

/**
 * `readBarrier`, when given, makes any GET with `?linearizable=1` wait until this replica has applied everything
 * committed before the request (Raft ReadIndex): a follower then answers no staler than the leader would.
 */
export function controlRoutes(
  store: StoreSource,
  readBarrier?: () => Promise<void>,
  logs?: () => LogService,
) {
  return (app: FastifyInstance): void => {
    if (readBarrier) {
      // A callback hook: ordinary requests pay no promise for it.
      app.addHook('preHandler', (req, _reply, done) => {
        const q = (req.query ?? {}) as { linearizable?: string };
        if (req.method !== 'GET' || !['1', 'true'].includes(q.linearizable ?? '')) return done();
        readBarrier().then(() => done(), done);
      });
    }
    serviceRoutes(store)(app);
    taskRoutes(store)(app);
    secretRoutes(store)(app);
    configRoutes(store)(app);
    nodeRoutes(store)(app);
    networkRoutes(store)(app);
    if (logs) logRoutes(store, logs)(app);
  };
}
