// `tsswarm daemon`: runs the node in the foreground until SIGINT/SIGTERM.
import type { Command } from 'commander';
import { setLogLevel, type LogLevel } from '../../api/index.js';
import { Daemon, DEFAULT_DATA_ROOT, DEFAULT_HOST } from '../../node/index.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

interface DaemonFlags {
  dataRoot: string;
  host: string[];
  logLevel: LogLevel;
  metricsAddr?: string;
  gwbridgeSubnet?: string;
}

export function registerDaemon(program: Command): void {
  program
    .command('daemon')
    .description('Run the tsswarm daemon on this node')
    .option('--data-root <dir>', 'Root directory of persistent state', DEFAULT_DATA_ROOT)
    .option('--host <addr>', 'API socket to listen on (repeatable)', collect, [])
    .option('--log-level <level>', 'debug, info, warn or error', 'info')
    .option('--metrics-addr <host:port>', 'Serve Prometheus metrics on http://HOST:PORT/metrics')
    .option(
      '--gwbridge-subnet <cidr>',
      'Subnet of tss_gwbridge, the bridge overlay-attached containers reach this node through (default 172.18.0.0/16)',
    )
    .action(async (opts: DaemonFlags, cmd: Command) => {
      setLogLevel(opts.logLevel);
      // `-H` on the program is the client's host; for the daemon it is where to listen.
      const globalHost = cmd.optsWithGlobals<{ host?: string }>().host;
      const hosts = opts.host.length
        ? opts.host
        : [globalHost && !opts.host.length ? globalHost : DEFAULT_HOST];
      const daemon = new Daemon({
        dataRoot: opts.dataRoot,
        hosts,
        metricsAddr: opts.metricsAddr,
        gwbridgeSubnet: opts.gwbridgeSubnet,
      });
      await daemon.start();
      await new Promise<void>((resolve) => {
        const onSignal = (sig: NodeJS.Signals) => {
          daemon.log.info('signal received, shutting down', { signal: sig });
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      });
      await daemon.stop();
    });
}
