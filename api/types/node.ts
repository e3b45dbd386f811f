import type { Annotations, Labels, Meta, Platform } from './common.js';
import type { TLSInfo } from './swarm.js';
import type { NetworkAttachment } from './task.js';

export type NodeRole = 'worker' | 'manager';
export type NodeAvailability = 'active' | 'pause' | 'drain';
export type NodeState = 'unknown' | 'down' | 'ready' | 'disconnected';
export type Reachability = 'unknown' | 'unreachable' | 'reachable';

export interface NodeSpec extends Partial<Annotations> {
  Role: NodeRole;
  Availability: NodeAvailability;
}

export interface GenericResource {
  NamedResourceSpec?: { Kind: string; Value: string };
  DiscreteResourceSpec?: { Kind: string; Value: number };
}

export interface NodeResources {
  NanoCPUs: number;
  MemoryBytes: number;
  GenericResources?: GenericResource[];
}

export interface EngineDescription {
  EngineVersion: string;
  Labels?: Labels;
  Plugins?: { Type: string; Name: string }[];
}

export interface NodeDescription {
  Hostname: string;
  Platform: Platform;
  Resources: NodeResources;
  Engine: EngineDescription;
  TLSInfo?: TLSInfo;
}

export interface NodeStatus {
  State: NodeState;
  Message?: string;
  Addr: string;
}

export interface ManagerStatus {
  Leader?: boolean;
  Reachability: Reachability;
  Addr: string;
}

export interface Node extends Meta {
  Spec: NodeSpec;
  Description: NodeDescription;
  Status: NodeStatus;
  ManagerStatus?: ManagerStatus;
  /** The node's own addresses on overlay networks (its load-balancer address on ingress), as swarmkit's. */
  Attachments?: NetworkAttachment[];
}
