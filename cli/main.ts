#!/usr/bin/env node
// The `tsswarm` command: a client of the daemon's HTTP API, plus `tsswarm daemon`.
import { Command, CommanderError } from 'commander';
import { PRODUCT_VERSION } from '../api/index.js';
import { registerSystem } from './commands/system.js';
import { registerDaemon } from './commands/daemon.js';
import { registerService } from './commands/service.js';
import { registerSecretAndConfig } from './commands/secret-config.js';
import { registerSwarm } from './commands/swarm.js';
import { registerNode } from './commands/node.js';
import { registerNetwork } from './commands/network.js';
import { registerImage } from './commands/image.js';
import { registerContainer } from './commands/container.js';
import { registerEvents } from './commands/events.js';
import { CliError } from './context.js';

export function buildProgram(): Command {
  const program = new Command('tsswarm')
    .description('A Swarm-style clustered service manager')
    .version(PRODUCT_VERSION, '-v, --version', 'Print version information and quit')
    .option('-H, --host <host>', 'Daemon socket to connect to (env TSSWARM_HOST)')
    .enablePositionalOptions()
    .showHelpAfterError()
    .exitOverride();
  registerSystem(program);
  registerDaemon(program);
  registerService(program);
  registerSecretAndConfig(program);
  registerSwarm(program);
  registerNode(program);
  registerNetwork(program);
  registerImage(program);
  registerContainer(program);
  registerEvents(program);
  return program;
}

async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const message = (err as Error).message;
    if (message) process.stderr.write(`${message}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

process.exitCode = await main(process.argv);
