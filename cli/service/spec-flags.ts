// Turns `service create`/`update` flags into ServiceSpec fields, as the docker CLI does.
import { parseDuration, type ServiceSpec, type UpdateConfig } from '../../api/index.js';
import type { ServiceFlags } from './options.js';
import { parseBytes, parseCpus, parseUint, splitCommand } from './parse-opts.js';

type Defined<T> = T extends undefined ? never : T;

function set<T>(value: T | undefined, apply: (v: Defined<T>) => void): void {
  if (value !== undefined) apply(value as Defined<T>);
}

function updateConfigFrom(
  flags: ServiceFlags,
  prefix: 'update' | 'rollback',
  base: UpdateConfig | undefined,
): UpdateConfig | undefined {
  const get = (name: string) => flags[`${prefix}${name}`] as string | undefined;
  const keys = ['Parallelism', 'Delay', 'FailureAction', 'Monitor', 'MaxFailureRatio', 'Order'];
  if (keys.every((k) => get(k) === undefined)) return base;
  const u: UpdateConfig = { ...base };
  set(get('Parallelism'), (v) => (u.Parallelism = parseUint(`--${prefix}-parallelism`, v)));
  set(get('Delay'), (v) => (u.Delay = parseDuration(v)));
  set(get('FailureAction'), (v) => (u.FailureAction = v as UpdateConfig['FailureAction']));
  set(get('Monitor'), (v) => (u.Monitor = parseDuration(v)));
  set(get('MaxFailureRatio'), (v) => (u.MaxFailureRatio = Number(v)));
  set(get('Order'), (v) => (u.Order = v as UpdateConfig['Order']));
  return u;
}

/** Applies the scalar flags (those that replace a value) to `spec`, in place. */
export function applyScalarFlags(spec: ServiceSpec, f: ServiceFlags): void {
  const t = spec.TaskTemplate;
  const c = (t.ContainerSpec ??= { Image: '' });
  set(f.hostname, (v) => (c.Hostname = v));
  set(f.user, (v) => (c.User = v));
  set(f.workdir, (v) => (c.Dir = v));
  set(f.entrypoint, (v) => (c.Command = splitCommand(v)));
  set(f.stopGracePeriod, (v) => (c.StopGracePeriod = parseDuration(v)));
  set(f.stopSignal, (v) => (c.StopSignal = v));
  set(f.readOnly, (v) => (c.ReadOnly = v));
  set(f.init, (v) => (c.Init = v));
  set(f.tty, (v) => (c.TTY = v));
  const limits = { ...t.Resources?.Limits };
  const reservations = { ...t.Resources?.Reservations };
  set(f.limitCpu, (v) => (limits.NanoCPUs = parseCpus(v)));
  set(f.limitMemory, (v) => (limits.MemoryBytes = parseBytes(v)));
  set(f.limitPids, (v) => (limits.Pids = parseUint('--limit-pids', v)));
  set(f.reserveCpu, (v) => (reservations.NanoCPUs = parseCpus(v)));
  set(f.reserveMemory, (v) => (reservations.MemoryBytes = parseBytes(v)));
  t.Resources = { Limits: limits, Reservations: reservations };
  const r = { ...t.RestartPolicy };
  set(f.restartCondition, (v) => (r.Condition = v as NonNullable<typeof r.Condition>));
  set(f.restartDelay, (v) => (r.Delay = parseDuration(v)));
  set(f.restartMaxAttempts, (v) => (r.MaxAttempts = parseUint('--restart-max-attempts', v)));
  set(f.restartWindow, (v) => (r.Window = parseDuration(v)));
  if (Object.keys(r).length) t.RestartPolicy = r;
  set(
    f.replicasMaxPerNode,
    (v) => (t.Placement = { ...t.Placement, MaxReplicas: parseUint('--replicas-max-per-node', v) }),
  );
  set(f.endpointMode, (v) => (spec.EndpointSpec = { ...spec.EndpointSpec, Mode: v as 'vip' | 'dnsrr' }));
  if (f.healthcheck === false) c.HealthCheck = { Test: ['NONE'] };
  else if (
    [f.healthCmd, f.healthInterval, f.healthTimeout, f.healthRetries, f.healthStartPeriod].some(
      (x) => x !== undefined,
    )
  ) {
    const h = { ...c.HealthCheck };
    set(f.healthCmd, (v) => (h.Test = ['CMD-SHELL', v]));
    set(f.healthInterval, (v) => (h.Interval = parseDuration(v)));
    set(f.healthTimeout, (v) => (h.Timeout = parseDuration(v)));
    set(f.healthRetries, (v) => (h.Retries = parseUint('--health-retries', v)));
    set(f.healthStartPeriod, (v) => (h.StartPeriod = parseDuration(v)));
    c.HealthCheck = h;
  }
  spec.UpdateConfig = updateConfigFrom(f, 'update', spec.UpdateConfig);
  spec.RollbackConfig = updateConfigFrom(f, 'rollback', spec.RollbackConfig);
  const m = spec.Mode ?? {};
  set(f.replicas, (v) => {
    const n = parseUint('--replicas', v);
    if (m.Global || m.GlobalJob)
      throw new Error('replicas can only be used with replicated or replicated-job mode');
    if (m.ReplicatedJob) m.ReplicatedJob.TotalCompletions = n;
    else m.Replicated = { Replicas: n };
  });
  set(f.maxConcurrent, (v) => {
    if (!m.ReplicatedJob) throw new Error('--max-concurrent is only valid for replicated-job services');
    m.ReplicatedJob.MaxConcurrent = parseUint('--max-concurrent', v);
  });
  spec.Mode = m;
}
