// Defaults Swarm fills into a service spec (swarmkit's api/defaults), applied only where a field is absent.
import type { ServiceSpec, UpdateConfig } from './types/service.js';

const SECOND = 1e9;

export const DEFAULT_STOP_GRACE_PERIOD = 10 * SECOND;
export const DEFAULT_RESTART_DELAY = 5 * SECOND;

export function defaultUpdateConfig(): Required<Omit<UpdateConfig, 'Delay'>> & { Delay?: number } {
  return {
    Parallelism: 1,
    FailureAction: 'pause',
    Monitor: 5 * SECOND,
    MaxFailureRatio: 0,
    Order: 'stop-first',
  };
}

function fillUpdateConfig(given: UpdateConfig | undefined): UpdateConfig {
  return { ...defaultUpdateConfig(), ...stripUndefined(given ?? {}) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Returns a copy of `spec` with Swarm's defaults filled in. The input is not modified. */
export function withServiceDefaults(spec: ServiceSpec): ServiceSpec {
  const s: ServiceSpec = structuredClone(spec);
  s.Labels ??= {};
  const t = (s.TaskTemplate ??= {});
  if (s.Networks?.length && !t.Networks?.length) t.Networks = s.Networks;
  delete s.Networks;
  if (t.ContainerSpec) {
    t.ContainerSpec.StopGracePeriod ??= DEFAULT_STOP_GRACE_PERIOD;
    t.ContainerSpec.Isolation ??= 'default';
  }
  t.Resources = { Limits: t.Resources?.Limits ?? {}, Reservations: t.Resources?.Reservations ?? {} };
  t.RestartPolicy = {
    Condition: 'any',
    Delay: DEFAULT_RESTART_DELAY,
    MaxAttempts: 0,
    ...stripUndefined(t.RestartPolicy ?? {}),
  };
  t.Placement ??= {};
  t.ForceUpdate ??= 0;
  t.Runtime ??= 'container';
  const mode = (s.Mode ??= {});
  if (!mode.Global && !mode.ReplicatedJob && !mode.GlobalJob) {
    mode.Replicated = { Replicas: mode.Replicated?.Replicas ?? 1 };
  }
  if (mode.ReplicatedJob) {
    mode.ReplicatedJob.MaxConcurrent ??= 1;
    mode.ReplicatedJob.TotalCompletions ??= mode.ReplicatedJob.MaxConcurrent;
  }
  // Jobs have no rolling updates in Swarm; services get both configs.
  if (!mode.ReplicatedJob && !mode.GlobalJob) {
    s.UpdateConfig = fillUpdateConfig(s.UpdateConfig);
    s.RollbackConfig = fillUpdateConfig(s.RollbackConfig);
  }
  s.EndpointSpec = { Mode: 'vip', ...stripUndefined(s.EndpointSpec ?? {}) };
  for (const p of s.EndpointSpec.Ports ?? []) {
    p.Protocol ??= 'tcp';
    p.PublishMode ??= 'ingress';
  }
  return s;
}
