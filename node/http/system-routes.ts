// System routes: /_ping, /version, /info.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { API_VERSION, MIN_API_VERSION, PRODUCT_VERSION, type SwarmInfo } from '../../api/index.js';
import { cgroupVersion } from '../../runtime/index.js';

/** What the system routes need to know about the running node. */
export interface SystemState {
  dataRoot: string;
  /** Value of the `Swarm` ping header: inactive, pending, error, locked, active/worker, active/manager. */
  swarmHeader(): string;
  swarmInfo(): SwarmInfo;
  containerCounts(): { total: number; running: number; paused: number; stopped: number };
  imageCount(): number;
  labels(): string[];
}

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };
export const nodeArch = (): string => GO_ARCH[process.arch] ?? process.arch;

function operatingSystem(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // Not every host has os-release.
  }
  return os.type();
}

function osVersion(): string {
  try {
    return /^VERSION_ID="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    return '';
  }
}

export function versionBody(): Record<string, unknown> {
  const details = {
    ApiVersion: API_VERSION,
    Arch: nodeArch(),
    BuildTime: '',
    Experimental: 'false',
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    KernelVersion: os.release(),
    MinAPIVersion: MIN_API_VERSION,
    Os: 'linux',
  };
  return {
    Platform: { Name: 'tsswarm' },
    Components: [{ Name: 'Engine', Version: PRODUCT_VERSION, Details: details }],
    Version: PRODUCT_VERSION,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: 'linux',
    Arch: nodeArch(),
    KernelVersion: os.release(),
    BuildTime: '',
  };
}

export function infoBody(state: SystemState): Record<string, unknown> {
  const c = state.containerCounts();
  return {
    ID: '',
    Containers: c.total,
    ContainersRunning: c.running,
    ContainersPaused: c.paused,
    ContainersStopped: c.stopped,
    Images: state.imageCount(),
    Driver: 'overlayfs',
    DriverStatus: [['Backing Filesystem', 'overlay']],
    Plugins: {
      Volume: ['local'],
      Network: ['null', 'host', 'overlay'],
      Authorization: null,
      Log: ['k8s-file'],
    },
    MemoryLimit: true,
    SwapLimit: false,
    CpuCfsPeriod: true,
    CpuCfsQuota: true,
    CPUShares: true,
    CPUSet: true,
    PidsLimit: true,
    OomKillDisable: false,
    IPv4Forwarding: true,
    Debug: false,
    NFd: 0,
    NGoroutines: 0,
    SystemTime: new Date().toISOString(),
    LoggingDriver: 'k8s-file',
    CgroupDriver: 'cgroupfs',
    CgroupVersion: cgroupVersion(),
    NEventsListener: 0,
    KernelVersion: os.release(),
    OperatingSystem: operatingSystem(),
    OSVersion: osVersion(),
    OSType: 'linux',
    Architecture: os.machine(),
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: {
      InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'],
      IndexConfigs: {},
      Mirrors: [],
    },
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    GenericResources: null,
    DockerRootDir: state.dataRoot,
    HttpProxy: '',
    HttpsProxy: '',
    NoProxy: '',
    Name: os.hostname(),
    Labels: state.labels(),
    ExperimentalBuild: false,
    ServerVersion: PRODUCT_VERSION,
    Runtimes: { runc: { path: 'runc' } },
    DefaultRuntime: 'runc',
    Swarm: state.swarmInfo(),
    LiveRestoreEnabled: true,
    Isolation: '',
    InitBinary: '',
    ContainerdCommit: { ID: '' },
    RuncCommit: { ID: '' },
    InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=unconfined', 'name=cgroupns'],
    Warnings: null,
  };
}

export function systemRoutes(state: SystemState) {
  return (app: FastifyInstance): void => {
    const ping = async (_req: unknown, reply: FastifyReply) => {
      void reply
        .header('Api-Version', API_VERSION)
        .header('Ostype', 'linux')
        .header('Docker-Experimental', 'false')
        .header('Swarm', state.swarmHeader())
        .header('Cache-Control', 'no-cache, no-store, must-revalidate')
        .header('Pragma', 'no-cache')
        .type('text/plain; charset=utf-8');
      return 'OK';
    };
    // Fastify answers HEAD from the GET route with the same headers and no body.
    app.get('/_ping', ping);
    app.get('/version', async () => versionBody());
    app.get('/info', async () => infoBody(state));
  };
}
