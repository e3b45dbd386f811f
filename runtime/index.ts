// runtime/: the local namespace runtime: the image store and registry pull, containers (bundles, runc under
// conmon, logs, health) and the child processes all of it starts off the daemon's event loop.
export * from './container/index.js';
export * from './image/index.js';
export * from './process/index.js';
