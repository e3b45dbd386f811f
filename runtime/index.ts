// runtime/: the local namespace runtime. Containers (bundles, runc under conmon, logs) have landed; the image
// store, registry pull and the container manager with its HTTP API are still to come (see docs/runtime.md).
export * from './container/index.js';
export * from './image/index.js';
