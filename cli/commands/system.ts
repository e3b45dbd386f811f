// `tsswarm version` and `tsswarm info`.
import type { Command } from 'commander';
import { API_VERSION, PRODUCT_VERSION } from '../../api/index.js';
import { clientOf } from '../context.js';
import { applyFormat, humanBytesBinary } from '../format.js';

interface VersionBody {
  Platform?: { Name: string };
  Version: string;
  ApiVersion: string;
  MinAPIVersion: string;
  GitCommit: string;
  GoVersion: string;
  Os: string;
  Arch: string;
  KernelVersion: string;
  BuildTime: string;
}

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

function clientVersion() {
  return {
    Version: PRODUCT_VERSION,
    ApiVersion: API_VERSION,
    NodeVersion: process.version,
    Os: 'linux',
    Arch: ARCH[process.arch] ?? process.arch,
  };
}

export function registerSystem(program: Command): void {
  program
    .command('version')
    .description('Show the tsswarm version information')
    .option('-f, --format <format>', 'Format output using a template or "json"')
    .action(async (opts: { format?: string }, cmd: Command) => {
      const client = clientVersion();
      let server: VersionBody | undefined;
      let failure: Error | undefined;
      try {
        server = await clientOf(cmd).get<VersionBody>('/version');
      } catch (err) {
        failure = err as Error;
      }
      if (opts.format) {
        process.stdout.write(applyFormat(opts.format, { Client: client, Server: server ?? null }) + '\n');
      } else {
        const lines = [
          'Client:',
          ` Version:           ${client.Version}`,
          ` API version:       ${client.ApiVersion}`,
          ` Node version:      ${client.NodeVersion}`,
          ` OS/Arch:           ${client.Os}/${client.Arch}`,
        ];
        if (server) {
          lines.push(
            '',
            `Server: ${server.Platform?.Name ?? ''}`,
            ' Engine:',
            `  Version:          ${server.Version}`,
            `  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})`,
            `  Runtime:          ${server.GoVersion}`,
            `  OS/Arch:          ${server.Os}/${server.Arch}`,
            `  Kernel:           ${server.KernelVersion}`,
          );
        }
        process.stdout.write(lines.join('\n') + '\n');
      }
      if (failure) throw failure;
    });

  program
    .command('info')
    .description('Display system-wide information')
    .option('-f, --format <format>', 'Format output using a template or "json"')
    .action(async (opts: { format?: string }, cmd: Command) => {
      const info = await clientOf(cmd).get<Record<string, unknown>>('/info');
      if (opts.format) {
        process.stdout.write(applyFormat(opts.format, info) + '\n');
        return;
      }
      process.stdout.write(renderInfo(info));
    });
}

function renderInfo(i: Record<string, unknown>): string {
  const swarm = (i.Swarm ?? {}) as Record<string, unknown>;
  const out = [
    'Server:',
    ` Containers: ${i.Containers}`,
    `  Running: ${i.ContainersRunning}`,
    `  Paused: ${i.ContainersPaused}`,
    `  Stopped: ${i.ContainersStopped}`,
    ` Images: ${i.Images}`,
    ` Server Version: ${i.ServerVersion}`,
    ` Storage Driver: ${i.Driver}`,
    ` Logging Driver: ${i.LoggingDriver}`,
    ` Cgroup Driver: ${i.CgroupDriver}`,
    ` Cgroup Version: ${i.CgroupVersion}`,
    ` Swarm: ${swarm.LocalNodeState ?? 'inactive'}`,
  ];
  if (swarm.LocalNodeState === 'active') {
    out.push(
      `  NodeID: ${swarm.NodeID}`,
      `  Is Manager: ${swarm.ControlAvailable}`,
      `  Node Address: ${swarm.NodeAddr}`,
    );
    if (swarm.Nodes !== undefined) out.push(`  Managers: ${swarm.Managers}`, `  Nodes: ${swarm.Nodes}`);
  }
  out.push(
    ` Default Runtime: ${i.DefaultRuntime}`,
    ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
    ` Kernel Version: ${i.KernelVersion}`,
    ` Operating System: ${i.OperatingSystem}`,
    ` OSType: ${i.OSType}`,
    ` Architecture: ${i.Architecture}`,
    ` CPUs: ${i.NCPU}`,
    ` Total Memory: ${humanBytesBinary(Number(i.MemTotal))}`,
    ` Name: ${i.Name}`,
    ` Data Root: ${i.DockerRootDir}`,
  );
  return out.join('\n') + '\n';
}
