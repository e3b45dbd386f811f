// The objects `swarm init` creates: the Cluster (swarm spec, CA, tokens) and the first manager's Node.
import os from 'node:os';
import type { Node, NodeDescription, Swarm, SwarmSpec } from '../api/index.js';
import { PRODUCT_VERSION } from '../api/index.js';

export const DEFAULT_SWARM_SPEC: SwarmSpec = {
  Name: 'default',
  Labels: {},
  Orchestration: { TaskHistoryRetentionLimit: 5 },
  Raft: {
    SnapshotInterval: 10000,
    KeepOldSnapshots: 0,
    LogEntriesForSlowFollowers: 500,
    ElectionTick: 10,
    HeartbeatTick: 1,
  },
  Dispatcher: { HeartbeatPeriod: 5e9 },
  CAConfig: { NodeCertExpiry: 90 * 24 * 3600e9 },
  EncryptionConfig: { AutoLockManagers: false },
  TaskDefaults: {},
};

export function newClusterObject(o: {
  clusterId: string;
  spec?: Partial<SwarmSpec>;
  rootCaPem: string;
  tokens: { Worker: string; Manager: string };
  defaultAddrPool: string[];
  subnetSize: number;
  dataPathPort: number;
}): Swarm {
  const spec = { ...DEFAULT_SWARM_SPEC, Labels: o.spec?.Labels ?? {}, Name: 'default' } as SwarmSpec;
  for (const k of [
    'Orchestration',
    'Raft',
    'Dispatcher',
    'CAConfig',
    'EncryptionConfig',
    'TaskDefaults',
  ] as const) {
    // The docker CLI sends zero for every setting it was not given: zero means "the default" here.
    const given = Object.entries((o.spec?.[k] as Record<string, unknown> | undefined) ?? {}).filter(
      ([, v]) => v !== undefined && v !== null && v !== 0,
    );
    (spec as unknown as Record<string, unknown>)[k] = {
      ...(DEFAULT_SWARM_SPEC[k] as object),
      ...Object.fromEntries(given),
    };
  }
  return {
    ID: o.clusterId,
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: spec,
    TLSInfo: { TrustRoot: o.rootCaPem, CertIssuerSubject: '', CertIssuerPublicKey: '' },
    RootRotationInProgress: false,
    DefaultAddrPool: o.defaultAddrPool,
    SubnetSize: o.subnetSize,
    DataPathPort: o.dataPathPort,
    JoinTokens: o.tokens,
  };
}

const ARCH: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64' };

/** What a node reports about itself: hostname, platform, resources, engine. */
export function describeThisNode(): NodeDescription {
  return {
    Hostname: os.hostname(),
    Platform: { Architecture: ARCH[process.arch] ?? process.arch, OS: 'linux' },
    Resources: { NanoCPUs: os.cpus().length * 1e9, MemoryBytes: os.totalmem() },
    Engine: {
      EngineVersion: PRODUCT_VERSION,
      Labels: {},
      Plugins: [
        { Type: 'Network', Name: 'overlay' },
        { Type: 'Volume', Name: 'local' },
      ],
    },
  };
}

export function selfNodeObject(o: {
  nodeId: string;
  role: 'manager' | 'worker';
  addr: string;
  managerAddr?: string;
  leader?: boolean;
}): Node {
  const node: Node = {
    ID: o.nodeId,
    Version: { Index: 0 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Role: o.role, Availability: 'active', Labels: {} },
    Description: describeThisNode(),
    Status: { State: 'ready', Addr: o.addr },
  };
  if (o.role === 'manager')
    node.ManagerStatus = {
      Leader: o.leader ?? false,
      Reachability: 'reachable',
      Addr: o.managerAddr ?? o.addr,
    };
  return node;
}
