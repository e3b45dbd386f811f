// runtime/process: child processes started without forking the daemon's own process on its event loop.
export { LaunchedChild, type LaunchOptions } from './child.js';
export { launch, resolveCommand, shellQuote } from './shell-launcher.js';
export { launchStreaming } from './thread-launcher.js';
export { run, RunError, type RunOptions, type RunResult } from './run.js';
export { processAlive } from './alive.js';
