// manager/controlapi: the Docker Engine API routes served from the replicated store.
import type { FastifyInstance } from 'fastify';
import type { StoreSource } from './store-source.js';
import { serviceRoutes } from './services.js';
import { taskRoutes } from './tasks.js';
import { configRoutes, secretRoutes } from './secrets-configs.js';
import { nodeRoutes } from './nodes.js';

export { parseFilters, type Filters } from './filters.js';
export { lookup } from './lookup.js';
export { taskName, isUpToDate } from './tasks.js';
export { serviceStatus } from './services.js';
export type { StoreSource } from './store-source.js';

export function controlRoutes(store: StoreSource) {
  return (app: FastifyInstance): void => {
    serviceRoutes(store)(app);
    taskRoutes(store)(app);
    secretRoutes(store)(app);
    configRoutes(store)(app);
    nodeRoutes(store)(app);
  };
}
