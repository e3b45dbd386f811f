// What every command needs: the API client for the chosen host, and uniform failure handling.
import type { Command } from 'commander';
import { ApiClient } from './client.js';

export const DEFAULT_CLI_HOST = 'unix:///run/tsswarm/tsswarm.sock';

export function hostOf(cmd: Command): string {
  const opts = cmd.optsWithGlobals<{ host?: string }>();
  return opts.host ?? process.env.TSSWARM_HOST ?? DEFAULT_CLI_HOST;
}

export function clientOf(cmd: Command): ApiClient {
  return new ApiClient(hostOf(cmd));
}

/** Exit status when a command fails; docker uses 1 for daemon errors. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
