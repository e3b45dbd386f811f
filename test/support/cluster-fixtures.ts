// Hand-made nodes and tasks for scheduler and orchestrator tests.
import type { Node, Task, TaskSpec } from '../../api/index.js';

export interface NodeOpts {
  state?: Node['Status']['State'];
  availability?: Node['Spec']['Availability'];
  role?: Node['Spec']['Role'];
  labels?: Record<string, string>;
  engineLabels?: Record<string, string>;
  cpus?: number;
  memory?: number;
  os?: string;
  arch?: string;
  addr?: string;
  generic?: Record<string, number>;
}

export function mkNode(id: string, o: NodeOpts = {}): Node {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: { Role: o.role ?? 'worker', Availability: o.availability ?? 'active', Labels: o.labels ?? {} },
    Description: {
      Hostname: `host-${id}`,
      Platform: { OS: o.os ?? 'linux', Architecture: o.arch ?? 'x86_64' },
      Resources: {
        NanoCPUs: (o.cpus ?? 4) * 1e9,
        MemoryBytes: o.memory ?? 8 * 1024 ** 3,
        GenericResources: Object.entries(o.generic ?? {}).map(([Kind, Value]) => ({
          DiscreteResourceSpec: { Kind, Value },
        })),
      },
      Engine: { EngineVersion: '0.1.0', Labels: o.engineLabels ?? {} },
    },
    Status: { State: o.state ?? 'ready', Addr: o.addr ?? '198.18.0.1' },
  };
}

export function mkTask(id: string, serviceId: string, spec: TaskSpec = {}, nodeId?: string): Task {
  return {
    ID: id,
    Version: { Index: 1 },
    CreatedAt: '',
    UpdatedAt: '',
    Spec: spec,
    ServiceID: serviceId,
    NodeID: nodeId,
    Status: { Timestamp: '', State: 'pending', Message: 'pending task scheduling' },
    DesiredState: 'running',
  };
}
