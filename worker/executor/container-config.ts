// A task's container as Docker's swarm executor makes it: its name, its labels and the create body built from
// the task's ContainerSpec and Resources. Pure.
import { InvalidArgument, type Task } from '../../api/index.js';
import type { CreateBody, HostConfig } from '../../runtime/index.js';

export const LABEL = {
  task: 'com.docker.swarm.task',
  taskId: 'com.docker.swarm.task.id',
  taskName: 'com.docker.swarm.task.name',
  nodeId: 'com.docker.swarm.node.id',
  serviceId: 'com.docker.swarm.service.id',
  serviceName: 'com.docker.swarm.service.name',
} as const;

/** Swarm's default stop grace period (`docker service create --stop-grace-period`). */
export const DEFAULT_STOP_GRACE_NS = 10e9;

/** The service's name as the task carries it (label set by the orchestrator), else its ID. */
export function serviceNameOf(task: Task): string {
  return (
    task.Labels?.[LABEL.serviceName] ?? task.Spec.ContainerSpec?.Labels?.[LABEL.serviceName] ?? task.ServiceID
  );
}

/** swarmkit's naming.Task: `<service>.<slot>.<task id>`, or `<service>.<node id>.<task id>` without a slot. */
export function containerName(task: Task, nodeId?: string): string {
  const slot = task.Slot ? String(task.Slot) : (task.NodeID ?? nodeId ?? '');
  return `${serviceNameOf(task)}.${slot}.${task.ID}`;
}

/** Spec labels, then the task's, then the system labels (which win), as Docker's container executor. */
export function containerLabels(task: Task, nodeId?: string): Record<string, string> {
  return {
    ...(task.Spec.ContainerSpec?.Labels ?? {}),
    ...(task.Labels ?? {}),
    [LABEL.task]: '',
    [LABEL.taskId]: task.ID,
    [LABEL.taskName]: containerName(task, nodeId),
    [LABEL.nodeId]: task.NodeID ?? nodeId ?? '',
    [LABEL.serviceId]: task.ServiceID,
    [LABEL.serviceName]: serviceNameOf(task),
  };
}

/** The grace period a stop of this task's container allows, in seconds (fractions kept). */
export function stopGraceSeconds(task: Task): number {
  const ns = task.Spec.ContainerSpec?.StopGracePeriod;
  return (ns !== undefined && ns >= 0 ? ns : DEFAULT_STOP_GRACE_NS) / 1e9;
}

export function hasHealthcheck(task: Task): boolean {
  const test = task.Spec.ContainerSpec?.HealthCheck?.Test;
  return !!test?.length && test[0] !== 'NONE';
}

/** The body of the container create for a task (Docker's containerConfig.config() + hostConfig()). */
export function createBody(task: Task, nodeId?: string): CreateBody {
  const c = task.Spec.ContainerSpec;
  if (!c?.Image) throw new InvalidArgument(`task ${task.ID} has no container spec with an image`);
  const limits = task.Spec.Resources?.Limits ?? {};
  const host: HostConfig = {
    ReadonlyRootfs: !!c.ReadOnly,
    ...(c.Mounts?.length ? { Mounts: c.Mounts } : {}),
    ...(c.CapabilityAdd?.length ? { CapAdd: c.CapabilityAdd } : {}),
    ...(c.CapabilityDrop?.length ? { CapDrop: c.CapabilityDrop } : {}),
    ...(c.Groups?.length ? { GroupAdd: c.Groups } : {}),
    ...(limits.MemoryBytes ? { Memory: limits.MemoryBytes } : {}),
    ...(limits.NanoCPUs ? { NanoCpus: limits.NanoCPUs } : {}),
    ...(limits.Pids ? { PidsLimit: limits.Pids } : {}),
    ...(c.OomScoreAdj ? { OomScoreAdj: c.OomScoreAdj } : {}),
    ...(task.Spec.LogDriver?.Name
      ? { LogConfig: { Type: task.Spec.LogDriver.Name, Config: { ...(task.Spec.LogDriver.Options ?? {}) } } }
      : {}),
  };
  const body: CreateBody = {
    Image: c.Image,
    Labels: containerLabels(task, nodeId),
    Env: [...(c.Env ?? [])],
    Tty: !!c.TTY,
    OpenStdin: !!c.OpenStdin,
    StopTimeout: stopGraceSeconds(task),
    HostConfig: host,
  };
  if (c.User) body.User = c.User;
  if (c.Hostname) body.Hostname = c.Hostname;
  if (c.Dir) body.WorkingDir = c.Dir;
  if (c.StopSignal) body.StopSignal = c.StopSignal;
  if (c.HealthCheck) body.Healthcheck = { ...c.HealthCheck };
  // A Command replaces the image's whole invocation (Entrypoint = Command, Cmd = Args); Args alone are the
  // arguments of the image's entrypoint.
  if (c.Command?.length) {
    body.Entrypoint = [...c.Command];
    body.Cmd = [...(c.Args ?? [])];
  } else if (c.Args?.length) body.Cmd = [...c.Args];
  return body;
}
