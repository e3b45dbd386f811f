import type { Annotations, Labels, Meta, Platform } from './common.js';
import type { TaskSpec, Endpoint } from './service.js';
import type { TaskState } from '../task-state.js';
import type { Network } from './network.js';

export interface ContainerStatus {
  ContainerID: string;
  PID: number;
  ExitCode?: number;
}

export interface PortStatus {
  Ports?: Endpoint['Ports'];
}

export interface TaskStatus {
  Timestamp: string;
  State: TaskState;
  Message: string;
  Err?: string;
  ContainerStatus?: ContainerStatus;
  PortStatus?: PortStatus;
}

export interface NetworkAttachment {
  Network: Network;
  Addresses: string[];
}

export interface Task extends Meta, Partial<Annotations> {
  Labels?: Labels;
  Spec: TaskSpec;
  ServiceID: string;
  /** Replicated services: 1-based slot. Global services: unset (the node identifies the task). */
  Slot?: number;
  NodeID?: string;
  AssignedGenericResources?: unknown[];
  Status: TaskStatus;
  DesiredState: TaskState;
  NetworksAttachments?: NetworkAttachment[];
  JobIteration?: { Index: number };
  /** Platform of the image, when known (used by the scheduler's platform filter). */
  Platform?: Platform;
  /** Ports allocated to the task (swarmkit keeps them on the task; host-mode ports bind on its node). */
  Endpoint?: Endpoint;
}
