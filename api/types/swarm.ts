import type { Annotations, DurationNs, Meta } from './common.js';

export interface TLSInfo {
  TrustRoot: string;
  CertIssuerSubject: string;
  CertIssuerPublicKey: string;
}

export interface ExternalCA {
  Protocol: 'cfssl';
  URL: string;
  Options?: Record<string, string>;
  CACert?: string;
}

export interface SwarmSpec extends Partial<Annotations> {
  Orchestration: { TaskHistoryRetentionLimit?: number };
  Raft: {
    SnapshotInterval?: number;
    KeepOldSnapshots?: number;
    LogEntriesForSlowFollowers?: number;
    ElectionTick: number;
    HeartbeatTick: number;
  };
  Dispatcher: { HeartbeatPeriod?: DurationNs };
  CAConfig: {
    NodeCertExpiry?: DurationNs;
    ExternalCAs?: ExternalCA[];
    SigningCACert?: string;
    ForceRotate?: number;
  };
  EncryptionConfig: { AutoLockManagers: boolean };
  TaskDefaults: { LogDriver?: { Name: string; Options?: Record<string, string> } };
}

export interface JoinTokens {
  Worker: string;
  Manager: string;
}

/** `GET /swarm` (the Cluster object plus join tokens). */
export interface Swarm extends Meta {
  Spec: SwarmSpec;
  TLSInfo: TLSInfo;
  RootRotationInProgress: boolean;
  DefaultAddrPool: string[];
  SubnetSize: number;
  DataPathPort: number;
  JoinTokens: JoinTokens;
  /** Internal (not in Docker's API): IDs of nodes removed from the swarm, whose certificates are refused. */
  RemovedNodes?: string[];
}

export type LocalNodeState = 'inactive' | 'pending' | 'active' | 'error' | 'locked';

/** The `Swarm` section of `GET /info`. */
export interface SwarmInfo {
  NodeID: string;
  NodeAddr: string;
  LocalNodeState: LocalNodeState;
  ControlAvailable: boolean;
  Error: string;
  RemoteManagers: { NodeID: string; Addr: string }[] | null;
  Nodes?: number;
  Managers?: number;
  Cluster?: Omit<Swarm, 'JoinTokens'>;
}
