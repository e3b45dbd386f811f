import test from 'ava';
import { Command } from 'commander';
import { addServiceFlags, type ServiceFlags } from '../../../cli/service/options.js';
import { buildCreateSpec } from '../../../cli/service/create-spec.js';
import { addUpdateListFlags, applyUpdateFlags, type UpdateFlags } from '../../../cli/service/update-spec.js';
import { parseBytes, parseMount, parsePublish } from '../../../cli/service/parse-opts.js';
import { validateServiceSpec, withServiceDefaults } from '../../../api/index.js';

const resolve = async (kind: string, name: string) => `${kind}-id-of-${name}`;

function parseCreate(argv: string[]): { image: string; args: string[]; flags: ServiceFlags } {
  let out: { image: string; args: string[]; flags: ServiceFlags } | undefined;
  const cmd = addServiceFlags(new Command('create').argument('<image>').argument('[command...]'), 'create')
    .passThroughOptions()
    .exitOverride()
    .action((image: string, args: string[], flags: ServiceFlags) => {
      out = { image, args, flags };
    });
  new Command('service')
    .enablePositionalOptions()
    .addCommand(cmd)
    .exitOverride()
    .parse(['create', ...argv], { from: 'user' });
  return out!;
}

test('service create flags become the spec the docker CLI would send', async (t) => {
  const { image, args, flags } = parseCreate([
    '--name',
    'web',
    '--replicas',
    '3',
    '-p',
    '8080:80',
    '-e',
    'A=1',
    '--label',
    'tier=front',
    '--constraint',
    'node.role==worker',
    '--placement-pref',
    'spread=node.labels.zone',
    '--limit-memory',
    '64m',
    '--reserve-cpu',
    '0.5',
    '--restart-condition',
    'on-failure',
    '--restart-delay',
    '2s',
    '--update-parallelism',
    '2',
    '--update-failure-action',
    'rollback',
    '--update-order',
    'start-first',
    '--mount',
    'type=volume,source=data,target=/data',
    '--secret',
    'pw',
    '--health-cmd',
    'wget -q localhost',
    '--health-interval',
    '1s',
    '--stop-grace-period',
    '3s',
    'busybox:local',
    'httpd',
    '-f',
    '-p',
    '80',
  ]);
  t.is(image, 'busybox:local');
  t.deepEqual(args, ['httpd', '-f', '-p', '80'], 'flags after the image belong to the container');
  const spec = await buildCreateSpec(image, args, flags, resolve);
  t.notThrows(() => validateServiceSpec(spec));
  const c = spec.TaskTemplate.ContainerSpec!;
  t.is(spec.Name, 'web');
  t.deepEqual(spec.Mode, { Replicated: { Replicas: 3 } });
  t.deepEqual(c.Args, ['httpd', '-f', '-p', '80']);
  t.deepEqual(c.Env, ['A=1']);
  t.deepEqual(spec.Labels, { tier: 'front' });
  t.deepEqual(spec.EndpointSpec!.Ports, [
    { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
  ]);
  t.deepEqual(spec.TaskTemplate.Placement!.Constraints, ['node.role==worker']);
  t.deepEqual(spec.TaskTemplate.Placement!.Preferences, [
    { Spread: { SpreadDescriptor: 'node.labels.zone' } },
  ]);
  t.is(spec.TaskTemplate.Resources!.Limits!.MemoryBytes, 64 * 1024 * 1024);
  t.is(spec.TaskTemplate.Resources!.Reservations!.NanoCPUs, 5e8);
  t.deepEqual(spec.TaskTemplate.RestartPolicy, { Condition: 'on-failure', Delay: 2e9 });
  t.deepEqual(spec.UpdateConfig, { Parallelism: 2, FailureAction: 'rollback', Order: 'start-first' });
  t.deepEqual(c.Mounts, [{ Type: 'volume', Source: 'data', Target: '/data' }]);
  t.deepEqual(c.Secrets, [
    { File: { Name: 'pw', UID: '0', GID: '0', Mode: 0o444 }, SecretID: 'secret-id-of-pw', SecretName: 'pw' },
  ]);
  t.deepEqual(c.HealthCheck, { Test: ['CMD-SHELL', 'wget -q localhost'], Interval: 1e9 });
  t.is(c.StopGracePeriod, 3e9);
  const filled = withServiceDefaults(spec);
  t.is(filled.UpdateConfig!.Monitor, 5e9, 'defaults fill what the flags left out');
});

test('modes: global, and replicated-job whose concurrency defaults to its completions', async (t) => {
  const g = parseCreate(['--mode', 'global', 'busybox']);
  t.deepEqual((await buildCreateSpec(g.image, g.args, g.flags, resolve)).Mode, { Global: {} });
  const j = parseCreate(['--mode', 'replicated-job', '--replicas', '5', 'busybox', 'true']);
  t.deepEqual((await buildCreateSpec(j.image, j.args, j.flags, resolve)).Mode, {
    ReplicatedJob: { MaxConcurrent: 5, TotalCompletions: 5 },
  });
  const j2 = parseCreate(['--mode', 'replicated-job', '--replicas', '5', '--max-concurrent', '2', 'busybox']);
  t.deepEqual((await buildCreateSpec(j2.image, j2.args, j2.flags, resolve)).Mode, {
    ReplicatedJob: { MaxConcurrent: 2, TotalCompletions: 5 },
  });
  const bad = parseCreate(['--mode', 'global', '--replicas', '2', 'busybox']);
  await t.throwsAsync(buildCreateSpec(bad.image, bad.args, bad.flags, resolve), {
    message: 'replicas can only be used with replicated or replicated-job mode',
  });
  t.throws(() => parseCreate(['--mode', 'sometimes', 'busybox']), {
    message: /Allowed choices are replicated, global/,
  });
});

test('service update flags edit lists by key and replace scalars', async (t) => {
  const base = parseCreate([
    '--name',
    'web',
    '-e',
    'A=1',
    '-e',
    'B=2',
    '-p',
    '8080:80',
    '--constraint',
    'node.role==worker',
    'busybox:local',
  ]);
  const spec = withServiceDefaults(await buildCreateSpec(base.image, base.args, base.flags, resolve));
  let flags: UpdateFlags | undefined;
  const cmd = addUpdateListFlags(addServiceFlags(new Command('update').argument('<service>'), 'update'))
    .exitOverride()
    .action((_s: string, f: UpdateFlags) => {
      flags = f;
    });
  cmd.parse(
    [
      'web',
      '--image',
      'busybox:v2',
      '--env-add',
      'A=9',
      '--env-rm',
      'B',
      '--publish-rm',
      '80',
      '--publish-add',
      '9090:90',
      '--constraint-rm',
      'node.role==worker',
      '--replicas',
      '6',
      '--force',
    ],
    { from: 'user' },
  );
  const next = await applyUpdateFlags(spec, flags!, resolve);
  t.is(next.TaskTemplate.ContainerSpec!.Image, 'busybox:v2');
  t.deepEqual(next.TaskTemplate.ContainerSpec!.Env, ['A=9']);
  t.deepEqual(
    next.EndpointSpec!.Ports!.map((p) => `${p.PublishedPort}:${p.TargetPort}`),
    ['9090:90'],
  );
  t.deepEqual(next.TaskTemplate.Placement!.Constraints, []);
  t.deepEqual(next.Mode, { Replicated: { Replicas: 6 } });
  t.is(next.TaskTemplate.ForceUpdate, 1);
  t.is(spec.TaskTemplate.ContainerSpec!.Image, 'busybox:local', 'the current spec is not modified');
});

test('flag value parsers give clear errors', (t) => {
  t.is(parseBytes('16m'), 16 * 1024 * 1024);
  t.is(parseBytes('1GiB'), 1024 ** 3);
  t.is(parseBytes('512'), 512);
  t.throws(() => parseBytes('lots'), { message: "invalid size: 'lots'" });
  t.deepEqual(parsePublish('53:53/udp'), {
    Protocol: 'udp',
    TargetPort: 53,
    PublishedPort: 53,
    PublishMode: 'ingress',
  });
  t.deepEqual(parsePublish('published=8080,target=80,mode=host'), {
    TargetPort: 80,
    PublishedPort: 8080,
    Protocol: 'tcp',
    PublishMode: 'host',
  });
  t.throws(() => parsePublish('80:99999'), { message: 'invalid target port: 99999' });
  t.throws(() => parsePublish('published=80'), { message: 'missing mandatory field "target"' });
  t.deepEqual(parseMount('type=bind,src=/a,dst=/b,ro'), {
    Type: 'bind',
    Source: '/a',
    Target: '/b',
    ReadOnly: true,
  });
  t.throws(() => parseMount('type=bind,source=/a'), { message: 'target is required' });
  t.throws(() => parseMount('type=bind,target=/b,colour=red'), {
    message: "unexpected key 'colour' in 'type=bind,target=/b,colour=red'",
  });
});
