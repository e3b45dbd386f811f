// What every command needs: the API client for the chosen host, and uniform failure handling.
import type { Command } from 'commander';
import { ApiClient } from './client.js';

export const DEFAULT_CLI_HOST = 'unix:///run/tsswarm/tsswarm.sock';

/** The program's -H/--host (subcommands may have a --host of their own, e.g. `service create --host`). */
export function hostOf(cmd: Command): string {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.opts<{ host?: string }>().host ?? process.env.TSSWARM_HOST ?? DEFAULT_CLI_HOST;
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
