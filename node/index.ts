// node/: composition root of the daemon.
export { Daemon, DEFAULT_DATA_ROOT, type DaemonOptions } from './daemon.js';
export { DEFAULT_HOST } from './api-socket.js';
