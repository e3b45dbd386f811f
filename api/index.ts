// api/: the object model in Docker Engine API v1.50 shapes, task states, typed errors, the codec and spec checks.
export type * from './types/common.js';
export type * from './types/node.js';
export type * from './types/service.js';
export type * from './types/task.js';
export type * from './types/network.js';
export type * from './types/secret.js';
export type * from './types/swarm.js';
export * from './task-state.js';
export * from './errors.js';
export * from './codec.js';
export * from './duration.js';
export * from './id.js';
export * from './limiter.js';
export * from './reference.js';
export * from './service-spec.js';
export * from './service-defaults.js';
export { API_VERSION, MIN_API_VERSION, PRODUCT_VERSION } from './version.js';
export * from './log.js';
