// `tsswarm swarm init|join|join-token|leave|update`.
import type { Command } from 'commander';
import { parseDuration, type Node, type Swarm, type SwarmInfo } from '../../api/index.js';
import type { ApiClient } from '../client.js';
import { CliError, clientOf } from '../context.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

async function joinCommand(client: ApiClient, role: 'worker' | 'manager', quiet: boolean): Promise<string> {
  const swarm = await client.get<Swarm>('/swarm');
  const token = role === 'worker' ? swarm.JoinTokens.Worker : swarm.JoinTokens.Manager;
  if (quiet) return `${token}\n`;
  const info = await client.get<{ Swarm: SwarmInfo }>('/info');
  const self = await client.get<Node>(`/nodes/${info.Swarm.NodeID}`);
  const addr = self.ManagerStatus?.Addr ?? info.Swarm.NodeAddr;
  return `To add a ${role} to this swarm, run the following command:\n\n    tsswarm swarm join --token ${token} ${addr}\n\n`;
}

function specFlags(o: {
  dispatcherHeartbeat?: string;
  certExpiry?: string;
  taskHistoryLimit?: string;
}): Record<string, unknown> {
  const spec: Record<string, unknown> = {};
  if (o.dispatcherHeartbeat) spec.Dispatcher = { HeartbeatPeriod: parseDuration(o.dispatcherHeartbeat) };
  if (o.certExpiry) spec.CAConfig = { NodeCertExpiry: parseDuration(o.certExpiry) };
  if (o.taskHistoryLimit !== undefined)
    spec.Orchestration = { TaskHistoryRetentionLimit: Number(o.taskHistoryLimit) };
  return spec;
}

export function registerSwarm(program: Command): void {
  const swarm = program.command('swarm').description('Manage the swarm');

  swarm
    .command('init')
    .description('Initialize a swarm')
    .option('--advertise-addr <addr>', 'Advertised address (format: <ip|interface>[:port])')
    .option('--listen-addr <addr>', 'Listen address (format: <ip|interface>[:port])', '0.0.0.0:2377')
    .option('--default-addr-pool <cidr>', 'Default address pool in CIDR format', collect, [])
    .option('--default-addr-pool-mask-length <n>', 'Default address pool subnet mask length', '24')
    .option('--data-path-port <port>', 'Port number used for data path traffic')
    .option('--dispatcher-heartbeat <duration>', 'Dispatcher heartbeat period (ns|us|ms|s|m|h)')
    .option('--cert-expiry <duration>', 'Validity period for node certificates (ns|us|ms|s|m|h)')
    .option('--task-history-limit <n>', 'Task history retention limit')
    .option('--force-new-cluster', 'Force create a new cluster from current state')
    .action(async (o: Record<string, string | string[] | boolean | undefined>, cmd: Command) => {
      const client = clientOf(cmd);
      const id = await client.post<string>('/swarm/init', {
        ListenAddr: o.listenAddr,
        AdvertiseAddr: o.advertiseAddr ?? '',
        DefaultAddrPool: o.defaultAddrPool,
        SubnetSize: Number(o.defaultAddrPoolMaskLength),
        DataPathPort: o.dataPathPort ? Number(o.dataPathPort) : 0,
        ForceNewCluster: !!o.forceNewCluster,
        Spec: specFlags(o as never),
      });
      process.stdout.write(`Swarm initialized: current node (${id}) is now a manager.\n\n`);
      process.stdout.write(await joinCommand(client, 'worker', false));
      process.stdout.write(
        "To add a manager to this swarm, run 'tsswarm swarm join-token manager' and follow the instructions.\n\n",
      );
    });

  swarm
    .command('join')
    .description('Join a swarm as a node')
    .argument('<host:port>')
    .requiredOption('--token <token>', 'Token for entry into the swarm')
    .option('--advertise-addr <addr>', 'Advertised address')
    .option('--listen-addr <addr>', 'Listen address', '0.0.0.0:2377')
    .option('--availability <a>', 'Availability of the node ("active", "pause", "drain")', 'active')
    .action(
      async (
        remote: string,
        o: { token: string; advertiseAddr?: string; listenAddr: string; availability: string },
        cmd: Command,
      ) => {
        const client = clientOf(cmd);
        await client.post('/swarm/join', {
          RemoteAddrs: [remote],
          JoinToken: o.token,
          AdvertiseAddr: o.advertiseAddr ?? '',
          ListenAddr: o.listenAddr,
          Availability: o.availability,
        });
        const info = await client.get<{ Swarm: SwarmInfo }>('/info');
        process.stdout.write(
          `This node joined a swarm as a ${info.Swarm.ControlAvailable ? 'manager' : 'worker'}.\n`,
        );
      },
    );

  swarm
    .command('join-token')
    .description('Manage join tokens')
    .argument('<worker|manager>')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate join token')
    .action(async (role: string, o: { quiet?: boolean; rotate?: boolean }, cmd: Command) => {
      if (role !== 'worker' && role !== 'manager') throw new CliError(`unknown role ${role}`);
      const client = clientOf(cmd);
      if (o.rotate) {
        const s = await client.get<Swarm>('/swarm');
        await client.json('POST', '/swarm/update', {
          body: s.Spec,
          query: {
            version: s.Version.Index,
            [role === 'worker' ? 'rotateWorkerToken' : 'rotateManagerToken']: true,
          },
        });
        if (!o.quiet) process.stdout.write(`Successfully rotated ${role} join token.\n\n`);
      }
      process.stdout.write(await joinCommand(client, role, !!o.quiet));
    });

  swarm
    .command('update')
    .description('Update the swarm')
    .option('--dispatcher-heartbeat <duration>', 'Dispatcher heartbeat period')
    .option('--cert-expiry <duration>', 'Validity period for node certificates')
    .option('--task-history-limit <n>', 'Task history retention limit')
    .action(
      async (
        o: { dispatcherHeartbeat?: string; certExpiry?: string; taskHistoryLimit?: string },
        cmd: Command,
      ) => {
        const client = clientOf(cmd);
        const s = await client.get<Swarm>('/swarm');
        const changes = specFlags(o);
        const spec = { ...s.Spec } as Record<string, unknown>;
        for (const [k, v] of Object.entries(changes)) spec[k] = { ...(spec[k] as object), ...(v as object) };
        await client.json('POST', '/swarm/update', { body: spec, query: { version: s.Version.Index } });
        process.stdout.write('Swarm updated.\n');
      },
    );

  swarm
    .command('leave')
    .description('Leave the swarm')
    .option('-f, --force', 'Force this node to leave the swarm, ignoring warnings')
    .action(async (o: { force?: boolean }, cmd: Command) => {
      await clientOf(cmd).json('POST', '/swarm/leave', { query: { force: !!o.force } });
      process.stdout.write('Node left the swarm.\n');
    });
}
