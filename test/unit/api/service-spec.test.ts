import test from 'ava';
import {
  validateServiceSpec,
  withServiceDefaults,
  type ServiceSpec,
  InvalidArgument,
} from '../../../api/index.js';

const base = (): ServiceSpec => ({
  Name: 'web',
  TaskTemplate: { ContainerSpec: { Image: 'busybox:local' } },
});

test('a minimal spec is valid and gets Swarm defaults', (t) => {
  const spec = base();
  t.notThrows(() => validateServiceSpec(spec));
  const d = withServiceDefaults(spec);
  t.deepEqual(d.Mode, { Replicated: { Replicas: 1 } });
  t.deepEqual(d.TaskTemplate.RestartPolicy, { Condition: 'any', Delay: 5e9, MaxAttempts: 0 });
  t.is(d.TaskTemplate.ContainerSpec!.StopGracePeriod, 10e9);
  t.deepEqual(d.UpdateConfig, {
    Parallelism: 1,
    FailureAction: 'pause',
    Monitor: 5e9,
    MaxFailureRatio: 0,
    Order: 'stop-first',
  });
  t.deepEqual(d.RollbackConfig, d.UpdateConfig);
  t.deepEqual(d.EndpointSpec, { Mode: 'vip' });
  t.deepEqual(d.TaskTemplate.Resources, { Limits: {}, Reservations: {} });
  t.is(d.TaskTemplate.Runtime, 'container');
  t.is(spec.Mode, undefined, 'the input is not modified');
});

test('defaults never overwrite what the user gave', (t) => {
  const d = withServiceDefaults({
    ...base(),
    Mode: { Replicated: {} },
    UpdateConfig: { Parallelism: 0, Order: 'start-first' },
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox', StopGracePeriod: 1e9 },
      RestartPolicy: { Condition: 'none' },
    },
    EndpointSpec: { Ports: [{ TargetPort: 80, PublishedPort: 8080 }] },
    Networks: [{ Target: 'appnet' }],
  });
  t.deepEqual(d.Mode, { Replicated: { Replicas: 1 } });
  t.is(d.UpdateConfig!.Parallelism, 0);
  t.is(d.UpdateConfig!.Order, 'start-first');
  t.is(d.UpdateConfig!.FailureAction, 'pause');
  t.is(d.TaskTemplate.ContainerSpec!.StopGracePeriod, 1e9);
  t.is(d.TaskTemplate.RestartPolicy!.Condition, 'none');
  t.is(d.TaskTemplate.RestartPolicy!.Delay, 5e9);
  t.deepEqual(d.EndpointSpec!.Ports, [
    { TargetPort: 80, PublishedPort: 8080, Protocol: 'tcp', PublishMode: 'ingress' },
  ]);
  t.deepEqual(d.TaskTemplate.Networks, [{ Target: 'appnet' }]);
  t.is(d.Networks, undefined);
});

test('global and job modes keep their shape', (t) => {
  t.deepEqual(withServiceDefaults({ ...base(), Mode: { Global: {} } }).Mode, { Global: {} });
  const job = withServiceDefaults({
    ...base(),
    Mode: { ReplicatedJob: { TotalCompletions: 5, MaxConcurrent: 2 } },
  });
  t.deepEqual(job.Mode, { ReplicatedJob: { TotalCompletions: 5, MaxConcurrent: 2 } });
  t.is(job.UpdateConfig, undefined);
});

const bad: [string, (s: ServiceSpec) => void, string | RegExp][] = [
  ['missing name', (s) => (s.Name = ''), 'Name: name must be provided'],
  [
    'bad name',
    (s) => (s.Name = 'web app'),
    'Name: invalid name "web app", only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed',
  ],
  ['long name', (s) => (s.Name = 'a'.repeat(64)), /Name: name "a+" is too long/],
  [
    'missing image',
    (s) => (s.TaskTemplate.ContainerSpec!.Image = ''),
    'TaskTemplate.ContainerSpec.Image: image reference must be provided',
  ],
  [
    'bad image',
    (s) => (s.TaskTemplate.ContainerSpec!.Image = 'Bad Image'),
    'TaskTemplate.ContainerSpec.Image: "Bad Image" is not a valid repository/tag',
  ],
  [
    'negative replicas',
    (s) => (s.Mode = { Replicated: { Replicas: -1 } }),
    'Mode.Replicated.Replicas: must be a non-negative integer (got -1)',
  ],
  [
    'fractional replicas',
    (s) => (s.Mode = { Replicated: { Replicas: 1.5 } }),
    'Mode.Replicated.Replicas: must be a non-negative integer (got 1.5)',
  ],
  [
    'two modes',
    (s) => (s.Mode = { Replicated: { Replicas: 1 }, Global: {} }),
    /Mode: only one of .* \(got Replicated, Global\)/,
  ],
  [
    'negative restart delay',
    (s) => (s.TaskTemplate.RestartPolicy = { Delay: -1 }),
    'TaskTemplate.RestartPolicy.Delay: cannot be negative',
  ],
  [
    'bad restart condition',
    (s) => (s.TaskTemplate.RestartPolicy = { Condition: 'sometimes' as never }),
    /RestartPolicy.Condition: invalid restart condition "sometimes"/,
  ],
  [
    'bad failure ratio',
    (s) => (s.UpdateConfig = { MaxFailureRatio: 2 }),
    'UpdateConfig.MaxFailureRatio: cannot be less than 0 or bigger than 1',
  ],
  [
    'bad failure action',
    (s) => (s.UpdateConfig = { FailureAction: 'explode' as never }),
    /UpdateConfig.FailureAction: invalid failure action "explode"/,
  ],
  [
    'rollback on rollback',
    (s) => (s.RollbackConfig = { FailureAction: 'rollback' }),
    'RollbackConfig.FailureAction: "rollback" is not valid for a rollback',
  ],
  [
    'bad order',
    (s) => (s.UpdateConfig = { Order: 'random' as never }),
    /UpdateConfig.Order: invalid order "random"/,
  ],
  [
    'negative update delay',
    (s) => (s.UpdateConfig = { Delay: -5 }),
    'UpdateConfig.Delay: cannot be negative',
  ],
  [
    'relative mount',
    (s) => (s.TaskTemplate.ContainerSpec!.Mounts = [{ Type: 'volume', Target: 'data' }]),
    'TaskTemplate.ContainerSpec.Mounts: invalid mount target "data", must be an absolute path',
  ],
  [
    'duplicate mount',
    (s) =>
      (s.TaskTemplate.ContainerSpec!.Mounts = [
        { Type: 'tmpfs', Target: '/a' },
        { Type: 'tmpfs', Target: '/a' },
      ]),
    'TaskTemplate.ContainerSpec.Mounts: duplicate mount point: /a',
  ],
  [
    'relative bind source',
    (s) => (s.TaskTemplate.ContainerSpec!.Mounts = [{ Type: 'bind', Source: 'x', Target: '/a' }]),
    /invalid bind mount source "x"/,
  ],
  [
    'unknown mount type',
    (s) => (s.TaskTemplate.ContainerSpec!.Mounts = [{ Type: 'nfs' as never, Target: '/a' }]),
    /mount type "nfs" is not supported/,
  ],
  [
    'tiny memory',
    (s) => (s.TaskTemplate.Resources = { Limits: { MemoryBytes: 1024 } }),
    'TaskTemplate.Resources.Limits.MemoryBytes: invalid memory value 1024: Must be at least 4MiB',
  ],
  [
    'negative memory',
    (s) => (s.TaskTemplate.Resources = { Reservations: { MemoryBytes: -1 } }),
    /Reservations.MemoryBytes: must be a non-negative integer/,
  ],
  [
    'tiny cpu',
    (s) => (s.TaskTemplate.Resources = { Limits: { NanoCPUs: 10 } }),
    /Limits.NanoCPUs: invalid cpu value/,
  ],
  [
    'negative pids',
    (s) => (s.TaskTemplate.Resources = { Limits: { Pids: -3 } }),
    /Limits.Pids: must be a non-negative integer \(got -3\)/,
  ],
  [
    'bad endpoint mode',
    (s) => (s.EndpointSpec = { Mode: 'lb' as never }),
    /EndpointSpec.Mode: invalid endpoint mode "lb"/,
  ],
  [
    'bad target port',
    (s) => (s.EndpointSpec = { Ports: [{ TargetPort: 70000 }] }),
    'EndpointSpec.Ports: invalid target port 70000',
  ],
  [
    'duplicate published',
    (s) =>
      (s.EndpointSpec = {
        Ports: [
          { TargetPort: 80, PublishedPort: 8080 },
          { TargetPort: 81, PublishedPort: 8080 },
        ],
      }),
    /duplicate published ports provided \(8080\/tcp\)/,
  ],
  [
    'dnsrr ingress',
    (s) => (s.EndpointSpec = { Mode: 'dnsrr', Ports: [{ TargetPort: 80, PublishedPort: 8080 }] }),
    /ingress mode can't be used with dnsrr/,
  ],
  [
    'bad healthcheck',
    (s) => (s.TaskTemplate.ContainerSpec!.HealthCheck = { Test: ['SHELL', 'true'] }),
    /HealthCheck.Test: must start with NONE, CMD or CMD-SHELL/,
  ],
  [
    'bad env',
    (s) => (s.TaskTemplate.ContainerSpec!.Env = ['=x']),
    /ContainerSpec.Env: invalid environment variable "=x"/,
  ],
  [
    'bad args',
    (s) => (s.TaskTemplate.ContainerSpec!.Args = [1 as never]),
    'TaskTemplate.ContainerSpec.Args: must be a list of strings',
  ],
  [
    'no container spec',
    (s) => delete s.TaskTemplate.ContainerSpec,
    'TaskTemplate.ContainerSpec: must be provided',
  ],
  ['bad label value', (s) => (s.Labels = { a: 1 as never }), 'Labels: value of label "a" must be a string'],
  [
    'bad max replicas',
    (s) => (s.TaskTemplate.Placement = { MaxReplicas: -1 }),
    /Placement.MaxReplicas: must be a non-negative integer/,
  ],
];

for (const [title, mutate, message] of bad) {
  test(`bad spec: ${title}`, (t) => {
    const spec = base();
    mutate(spec);
    const err = t.throws(() => validateServiceSpec(spec), { instanceOf: InvalidArgument });
    if (typeof message === 'string') t.is(err.message, message);
    else t.regex(err.message, message);
  });
}
