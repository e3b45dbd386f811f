// Validation of service specs: each rule names the field it checks, as swarmkit's controlapi does.
import { InvalidArgument } from './errors.js';
import { parseReference } from './reference.js';
import type {
  ContainerSpec,
  EndpointSpec,
  Mount,
  ResourceObject,
  ServiceMode,
  ServiceSpec,
  UpdateConfig,
  RestartPolicy,
} from './types/service.js';

const NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/;
const MIN_MEMORY = 4 * 1024 * 1024;
const MIN_NANO_CPUS = 1e6;

function fail(msg: string): never {
  throw new InvalidArgument(msg);
}

function isNonNegInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

function checkDuration(field: string, v: unknown): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${field}: must be a duration in nanoseconds`);
  if (v < 0) fail(`${field}: cannot be negative`);
}

/** Object names (services, secrets, configs, networks): as Swarm, a DNS-label-like name of at most 63 characters. */
export function validateObjectName(kind: string, name: unknown): void {
  if (typeof name !== 'string' || name === '') fail(`${kind}: name must be provided`);
  if (name.length > 63) fail(`${kind}: name "${name}" is too long (maximum 63 characters)`);
  if (!NAME_RE.test(name)) {
    fail(`${kind}: invalid name "${name}", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  }
}

/**
 * Docker's Go types spell the container health check `Healthcheck` (and the docker CLI sends that), while the
 * API reference writes `HealthCheck`; the engine accepts both (JSON decoding ignores case). We keep one spelling.
 */
export function canonicalServiceSpec<T extends ServiceSpec>(spec: T): T {
  const c = spec?.TaskTemplate?.ContainerSpec as
    (Record<string, unknown> & { HealthCheck?: unknown }) | undefined;
  if (c && 'Healthcheck' in c) {
    c.HealthCheck ??= c.Healthcheck;
    delete c.Healthcheck;
  }
  return spec;
}

export function validateServiceSpec(spec: ServiceSpec): void {
  if (spec === null || typeof spec !== 'object') fail('service spec must be an object');
  validateObjectName('Name', spec.Name);
  if (spec.Labels !== undefined) validateLabels('Labels', spec.Labels);
  const t = spec.TaskTemplate;
  if (!t || typeof t !== 'object') fail('TaskTemplate: must be provided');
  if (!t.ContainerSpec) fail('TaskTemplate.ContainerSpec: must be provided');
  validateContainerSpec(t.ContainerSpec);
  validateResources('TaskTemplate.Resources.Limits', t.Resources?.Limits);
  validateResources('TaskTemplate.Resources.Reservations', t.Resources?.Reservations);
  validateRestartPolicy(t.RestartPolicy);
  const p = t.Placement;
  if (p?.MaxReplicas !== undefined && !isNonNegInt(p.MaxReplicas)) {
    fail('TaskTemplate.Placement.MaxReplicas: must be a non-negative integer');
  }
  if (p?.Constraints !== undefined && !Array.isArray(p.Constraints)) {
    fail('TaskTemplate.Placement.Constraints: must be a list of expressions');
  }
  for (const pref of p?.Preferences ?? []) {
    const d = pref?.Spread?.SpreadDescriptor;
    if (typeof d !== 'string' || d === '')
      fail('TaskTemplate.Placement.Preferences: spread descriptor must be provided');
  }
  for (const n of [...(t.Networks ?? []), ...(spec.Networks ?? [])]) {
    if (!n || typeof n.Target !== 'string' || n.Target === '')
      fail('TaskTemplate.Networks: network target must be provided');
  }
  validateMode(spec.Mode);
  validateUpdateConfig('UpdateConfig', spec.UpdateConfig);
  validateUpdateConfig('RollbackConfig', spec.RollbackConfig);
  validateEndpoint(spec.EndpointSpec);
}

function validateLabels(field: string, labels: unknown): void {
  if (labels === null || typeof labels !== 'object' || Array.isArray(labels))
    fail(`${field}: must be a map of strings`);
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') fail(`${field}: value of label "${k}" must be a string`);
  }
}

function validateContainerSpec(c: ContainerSpec): void {
  const f = 'TaskTemplate.ContainerSpec';
  if (typeof c.Image !== 'string' || c.Image === '') fail(`${f}.Image: image reference must be provided`);
  try {
    parseReference(c.Image);
  } catch {
    fail(`${f}.Image: "${c.Image}" is not a valid repository/tag`);
  }
  for (const key of [
    'Command',
    'Args',
    'Env',
    'Groups',
    'Hosts',
    'CapabilityAdd',
    'CapabilityDrop',
  ] as const) {
    const v = c[key];
    if (v !== undefined && v !== null && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) {
      fail(`${f}.${key}: must be a list of strings`);
    }
  }
  for (const e of c.Env ?? []) {
    if (e.startsWith('=') || e === '') fail(`${f}.Env: invalid environment variable "${e}"`);
  }
  checkDuration(`${f}.StopGracePeriod`, c.StopGracePeriod);
  if (c.HealthCheck) {
    const h = c.HealthCheck;
    checkDuration(`${f}.HealthCheck.Interval`, h.Interval);
    checkDuration(`${f}.HealthCheck.Timeout`, h.Timeout);
    checkDuration(`${f}.HealthCheck.StartPeriod`, h.StartPeriod);
    if (h.Interval && h.Interval < 1e6) fail(`${f}.HealthCheck.Interval: must be at least 1ms`);
    if (h.Retries !== undefined && !isNonNegInt(h.Retries))
      fail(`${f}.HealthCheck.Retries: must be a non-negative integer`);
    const test = h.Test ?? [];
    if (test.length > 0 && !['NONE', 'CMD', 'CMD-SHELL'].includes(test[0]!)) {
      fail(`${f}.HealthCheck.Test: must start with NONE, CMD or CMD-SHELL (got "${test[0]}")`);
    }
  }
  validateMounts(`${f}.Mounts`, c.Mounts ?? []);
  for (const s of c.Secrets ?? []) {
    if (!s.SecretID || !s.SecretName) fail(`${f}.Secrets: SecretID and SecretName must be provided`);
  }
  for (const s of c.Configs ?? []) {
    if (!s.ConfigID || !s.ConfigName) fail(`${f}.Configs: ConfigID and ConfigName must be provided`);
  }
}

export function validateMounts(field: string, mounts: Mount[]): void {
  const seen = new Set<string>();
  for (const m of mounts) {
    if (!m || typeof m !== 'object') fail(`${field}: each mount must be an object`);
    if (!['bind', 'volume', 'tmpfs'].includes(m.Type))
      fail(`${field}: mount type "${m.Type}" is not supported`);
    if (typeof m.Target !== 'string' || !m.Target.startsWith('/')) {
      fail(`${field}: invalid mount target "${m.Target ?? ''}", must be an absolute path`);
    }
    if (seen.has(m.Target)) fail(`${field}: duplicate mount point: ${m.Target}`);
    seen.add(m.Target);
    if (m.Type === 'bind' && (typeof m.Source !== 'string' || !m.Source.startsWith('/'))) {
      fail(`${field}: invalid bind mount source "${m.Source ?? ''}", must be an absolute path`);
    }
    if (m.Type === 'tmpfs' && m.Source) fail(`${field}: tmpfs mount ${m.Target} cannot have a source`);
    if (m.Type === 'volume' && m.Source && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(m.Source)) {
      fail(`${field}: invalid volume name "${m.Source}"`);
    }
    if (m.TmpfsOptions?.SizeBytes !== undefined && !isNonNegInt(m.TmpfsOptions.SizeBytes)) {
      fail(`${field}: tmpfs size of ${m.Target} must be a non-negative integer`);
    }
  }
}

export function validateResources(field: string, r: ResourceObject | undefined): void {
  if (!r) return;
  if (r.MemoryBytes !== undefined) {
    if (!isNonNegInt(r.MemoryBytes))
      fail(`${field}.MemoryBytes: must be a non-negative integer (got ${r.MemoryBytes})`);
    if (r.MemoryBytes !== 0 && r.MemoryBytes < MIN_MEMORY) {
      fail(`${field}.MemoryBytes: invalid memory value ${r.MemoryBytes}: Must be at least 4MiB`);
    }
  }
  if (r.NanoCPUs !== undefined) {
    if (!isNonNegInt(r.NanoCPUs))
      fail(`${field}.NanoCPUs: must be a non-negative integer (got ${r.NanoCPUs})`);
    if (r.NanoCPUs !== 0 && r.NanoCPUs < MIN_NANO_CPUS) {
      fail(`${field}.NanoCPUs: invalid cpu value ${r.NanoCPUs / 1e9}: Must be at least 0.001`);
    }
  }
  if (r.Pids !== undefined && !isNonNegInt(r.Pids))
    fail(`${field}.Pids: must be a non-negative integer (got ${r.Pids})`);
}

function validateRestartPolicy(r: RestartPolicy | undefined): void {
  if (!r) return;
  const f = 'TaskTemplate.RestartPolicy';
  if (r.Condition !== undefined && !['none', 'on-failure', 'any'].includes(r.Condition)) {
    fail(`${f}.Condition: invalid restart condition "${r.Condition}" (none, on-failure or any)`);
  }
  checkDuration(`${f}.Delay`, r.Delay);
  checkDuration(`${f}.Window`, r.Window);
  if (r.MaxAttempts !== undefined && !isNonNegInt(r.MaxAttempts)) {
    fail(`${f}.MaxAttempts: must be a non-negative integer`);
  }
}

function validateMode(mode: ServiceMode | undefined): void {
  if (!mode) return;
  const set = (['Replicated', 'Global', 'ReplicatedJob', 'GlobalJob'] as const).filter(
    (k) => mode[k] !== undefined,
  );
  if (set.length > 1)
    fail(`Mode: only one of Replicated, Global, ReplicatedJob, GlobalJob may be set (got ${set.join(', ')})`);
  const reps = mode.Replicated?.Replicas;
  if (reps !== undefined && !isNonNegInt(reps))
    fail(`Mode.Replicated.Replicas: must be a non-negative integer (got ${reps})`);
  const job = mode.ReplicatedJob;
  if (job) {
    if (job.MaxConcurrent !== undefined && !isNonNegInt(job.MaxConcurrent)) {
      fail(`Mode.ReplicatedJob.MaxConcurrent: must be a non-negative integer (got ${job.MaxConcurrent})`);
    }
    if (job.TotalCompletions !== undefined && !isNonNegInt(job.TotalCompletions)) {
      fail(
        `Mode.ReplicatedJob.TotalCompletions: must be a non-negative integer (got ${job.TotalCompletions})`,
      );
    }
  }
}

function validateUpdateConfig(f: string, u: UpdateConfig | undefined): void {
  if (!u) return;
  if (u.Parallelism !== undefined && !isNonNegInt(u.Parallelism))
    fail(`${f}.Parallelism: must be a non-negative integer`);
  checkDuration(`${f}.Delay`, u.Delay);
  checkDuration(`${f}.Monitor`, u.Monitor);
  if (u.FailureAction !== undefined && !['pause', 'continue', 'rollback'].includes(u.FailureAction)) {
    fail(`${f}.FailureAction: invalid failure action "${u.FailureAction}" (pause, continue or rollback)`);
  }
  if (f === 'RollbackConfig' && u.FailureAction === 'rollback') {
    fail(`${f}.FailureAction: "rollback" is not valid for a rollback`);
  }
  if (
    u.MaxFailureRatio !== undefined &&
    (typeof u.MaxFailureRatio !== 'number' || u.MaxFailureRatio < 0 || u.MaxFailureRatio > 1)
  ) {
    fail(`${f}.MaxFailureRatio: cannot be less than 0 or bigger than 1`);
  }
  if (u.Order !== undefined && !['stop-first', 'start-first'].includes(u.Order)) {
    fail(`${f}.Order: invalid order "${u.Order}" (stop-first or start-first)`);
  }
}

function validateEndpoint(e: EndpointSpec | undefined): void {
  if (!e) return;
  if (e.Mode !== undefined && e.Mode !== 'vip' && e.Mode !== 'dnsrr') {
    fail(`EndpointSpec.Mode: invalid endpoint mode "${e.Mode}" (vip or dnsrr)`);
  }
  const published = new Set<string>();
  for (const p of e.Ports ?? []) {
    if (!Number.isInteger(p.TargetPort) || p.TargetPort < 1 || p.TargetPort > 65535) {
      fail(`EndpointSpec.Ports: invalid target port ${p.TargetPort}`);
    }
    if (
      p.PublishedPort !== undefined &&
      (!Number.isInteger(p.PublishedPort) || p.PublishedPort < 0 || p.PublishedPort > 65535)
    ) {
      fail(`EndpointSpec.Ports: invalid published port ${p.PublishedPort}`);
    }
    const proto = p.Protocol ?? 'tcp';
    if (!['tcp', 'udp', 'sctp'].includes(proto)) fail(`EndpointSpec.Ports: invalid protocol "${proto}"`);
    const mode = p.PublishMode ?? 'ingress';
    if (mode !== 'ingress' && mode !== 'host') fail(`EndpointSpec.Ports: invalid publish mode "${mode}"`);
    if (e.Mode === 'dnsrr' && mode === 'ingress' && p.PublishedPort) {
      fail(`EndpointSpec: port published with ingress mode can't be used with dnsrr mode`);
    }
    if (p.PublishedPort) {
      const key = `${p.PublishedPort}/${proto}`;
      if (published.has(key)) fail(`EndpointSpec: duplicate published ports provided (${key})`);
      published.add(key);
    }
  }
}
