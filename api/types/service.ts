import type { Annotations, DurationNs, Labels, Meta, Platform, Driver } from './common.js';
import type { GenericResource } from './node.js';

export type MountType = 'bind' | 'volume' | 'tmpfs' | 'npipe' | 'cluster';

export interface Mount {
  Type: MountType;
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean; CreateMountpoint?: boolean };
  VolumeOptions?: { NoCopy?: boolean; Labels?: Labels; DriverConfig?: Driver; Subpath?: string };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number; Options?: string[][] };
}

export interface HealthConfig {
  /** ["NONE"], ["CMD", args...], ["CMD-SHELL", command] */
  Test?: string[];
  Interval?: DurationNs;
  Timeout?: DurationNs;
  Retries?: number;
  StartPeriod?: DurationNs;
  StartInterval?: DurationNs;
}

export interface FileTarget {
  Name: string;
  UID: string;
  GID: string;
  Mode: number;
}

export interface SecretReference {
  File?: FileTarget;
  SecretID: string;
  SecretName: string;
}

export interface ConfigReference {
  File?: FileTarget;
  Runtime?: Record<string, never>;
  ConfigID: string;
  ConfigName: string;
}

export interface ContainerSpec {
  Image: string;
  Labels?: Labels;
  Command?: string[];
  Args?: string[];
  Hostname?: string;
  Env?: string[];
  Dir?: string;
  User?: string;
  Groups?: string[];
  Privileges?: unknown;
  TTY?: boolean;
  OpenStdin?: boolean;
  ReadOnly?: boolean;
  Mounts?: Mount[];
  StopSignal?: string;
  StopGracePeriod?: DurationNs;
  HealthCheck?: HealthConfig;
  Hosts?: string[];
  DNSConfig?: { Nameservers?: string[]; Search?: string[]; Options?: string[] };
  Secrets?: SecretReference[];
  Configs?: ConfigReference[];
  Isolation?: string;
  Init?: boolean;
  Sysctls?: Record<string, string>;
  CapabilityAdd?: string[];
  CapabilityDrop?: string[];
  Ulimits?: { Name: string; Soft: number; Hard: number }[];
  OomScoreAdj?: number;
}

export interface ResourceObject {
  NanoCPUs?: number;
  MemoryBytes?: number;
  Pids?: number;
  GenericResources?: GenericResource[];
}

export interface ResourceRequirements {
  Limits?: ResourceObject;
  Reservations?: ResourceObject;
}

export type RestartCondition = 'none' | 'on-failure' | 'any';

export interface RestartPolicy {
  Condition?: RestartCondition;
  Delay?: DurationNs;
  MaxAttempts?: number;
  Window?: DurationNs;
}

export interface Placement {
  Constraints?: string[];
  Preferences?: { Spread: { SpreadDescriptor: string } }[];
  MaxReplicas?: number;
  Platforms?: Platform[];
}

export interface NetworkAttachmentConfig {
  Target: string;
  Aliases?: string[];
  DriverOpts?: Record<string, string>;
}

export interface TaskSpec {
  PluginSpec?: unknown;
  ContainerSpec?: ContainerSpec;
  NetworkAttachmentSpec?: { ContainerID: string };
  Resources?: ResourceRequirements;
  RestartPolicy?: RestartPolicy;
  Placement?: Placement;
  ForceUpdate?: number;
  Runtime?: string;
  Networks?: NetworkAttachmentConfig[];
  LogDriver?: Driver;
}

export interface ServiceMode {
  Replicated?: { Replicas?: number };
  Global?: Record<string, never>;
  ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number };
  GlobalJob?: Record<string, never>;
}

export type FailureAction = 'continue' | 'pause' | 'rollback';
export type UpdateOrder = 'stop-first' | 'start-first';

export interface UpdateConfig {
  Parallelism?: number;
  Delay?: DurationNs;
  FailureAction?: FailureAction;
  Monitor?: DurationNs;
  MaxFailureRatio?: number;
  Order?: UpdateOrder;
}

export type PortProtocol = 'tcp' | 'udp' | 'sctp';
export type PublishMode = 'ingress' | 'host';

export interface PortConfig {
  Name?: string;
  Protocol?: PortProtocol;
  TargetPort: number;
  PublishedPort?: number;
  PublishMode?: PublishMode;
}

export type EndpointMode = 'vip' | 'dnsrr';

export interface EndpointSpec {
  Mode?: EndpointMode;
  Ports?: PortConfig[];
}

export interface ServiceSpec extends Annotations {
  TaskTemplate: TaskSpec;
  Mode?: ServiceMode;
  UpdateConfig?: UpdateConfig;
  RollbackConfig?: UpdateConfig;
  /** Deprecated in the API; accepted and moved into TaskTemplate.Networks as Docker does. */
  Networks?: NetworkAttachmentConfig[];
  EndpointSpec?: EndpointSpec;
}

export interface Endpoint {
  Spec: EndpointSpec;
  Ports?: PortConfig[];
  VirtualIPs?: { NetworkID: string; Addr: string }[];
}

export type UpdateState =
  'updating' | 'paused' | 'completed' | 'rollback_started' | 'rollback_paused' | 'rollback_completed';

export interface UpdateStatus {
  State: UpdateState;
  StartedAt?: string;
  CompletedAt?: string;
  Message?: string;
}

export interface Service extends Meta {
  Spec: ServiceSpec;
  PreviousSpec?: ServiceSpec;
  Endpoint?: Endpoint;
  UpdateStatus?: UpdateStatus;
  ServiceStatus?: { RunningTasks: number; DesiredTasks: number; CompletedTasks: number };
  JobStatus?: { JobIteration: { Index: number }; LastExecution?: string };
}
