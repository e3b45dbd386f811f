// manager/controlapi: the Docker Engine API routes served from the replicated store.
import type { FastifyInstance } from 'fastify';
import type { MemoryStore } from '../store/index.js';
import { serviceRoutes } from './services.js';
import { taskRoutes } from './tasks.js';
import { configRoutes, secretRoutes } from './secrets-configs.js';

export { parseFilters, type Filters } from './filters.js';
export { lookup } from './lookup.js';
export { taskName, isUpToDate } from './tasks.js';
export { serviceStatus } from './services.js';

export function controlRoutes(store: MemoryStore) {
  return (app: FastifyInstance): void => {
    serviceRoutes(store)(app);
    taskRoutes(store)(app);
    secretRoutes(store)(app);
    configRoutes(store)(app);
  };
}
