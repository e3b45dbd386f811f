// runtime/process: child processes started off the daemon's event loop.
export { launch, LaunchedChild, type LaunchOptions } from './launcher.js';
export { run, RunError, type RunOptions, type RunResult } from './run.js';
