import test from 'ava';
import { Command } from 'commander';
import { addServiceFlags, type ServiceFlags } from '../../../cli/service/options.js';
import { buildCreateSpec } from '../../../cli/service/create-spec.js';
import { addUpdateListFlags, applyUpdateFlags, type UpdateFlags } from '../../../cli/service/update-spec.js';
import { parsePublish } from '../../../cli/service/parse-opts.js';
import {
  ipamConfigs,
  networkCreateBody,
  registerNetwork,
  type NetworkCreateFlags,
} from '../../../cli/commands/network.js';
import { validateServiceSpec, withServiceDefaults, type ServiceSpec } from '../../../api/index.js';

const resolve = async (kind: string, name: string) => `${kind}-id-of-${name}`;
const resolveNetwork = async (ref: string) => (ref.startsWith('id-') ? ref : `id-${ref}`);

function parseWith<T>(cmd: Command, argv: string[]): T {
  let out: T | undefined;
  cmd.exitOverride().action((...args: unknown[]) => {
    out = args[args.length - 2] as T;
  });
  cmd.parse(argv, { from: 'user' });
  return out!;
}

async function createSpec(argv: string[]): Promise<ServiceSpec> {
  const cmd = addServiceFlags(new Command('create').argument('<image>').argument('[command...]'), 'create');
  const flags = parseWith<ServiceFlags>(cmd, [...argv, 'busybox:local']);
  return buildCreateSpec('busybox:local', [], flags, resolve);
}

async function update(spec: ServiceSpec, argv: string[]): Promise<ServiceSpec> {
  const cmd = addUpdateListFlags(addServiceFlags(new Command('update').argument('<service>'), 'update'));
  const flags = parseWith<UpdateFlags>(cmd, ['web', ...argv]);
  return applyUpdateFlags(spec, flags, resolve, resolveNetwork);
}

test('--publish: short and long forms become EndpointSpec.Ports', async (t) => {
  const spec = await createSpec([
    '--name',
    'web',
    '-p',
    '8080:80',
    '--publish',
    '80',
    '-p',
    '5353:53/udp',
    '-p',
    'published=9090,target=90,protocol=tcp,mode=host',
    '--publish',
    'target=70,protocol=sctp',
    '--network',
    'appnet',
    '--network',
    'name=backnet,alias=db',
    '--endpoint-mode',
    'dnsrr',
  ]);
  t.deepEqual(spec.EndpointSpec, {
    Mode: 'dnsrr',
    Ports: [
      { Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 80, PublishMode: 'ingress' },
      { Protocol: 'udp', TargetPort: 53, PublishedPort: 5353, PublishMode: 'ingress' },
      { Protocol: 'tcp', TargetPort: 90, PublishedPort: 9090, PublishMode: 'host' },
      { Protocol: 'sctp', TargetPort: 70, PublishMode: 'ingress' },
    ],
  });
  t.deepEqual(spec.TaskTemplate.Networks, [{ Target: 'appnet' }, { Target: 'backnet', Aliases: ['db'] }]);
  t.throws(() => validateServiceSpec(withServiceDefaults(spec)), {
    message: "EndpointSpec: port published with ingress mode can't be used with dnsrr mode",
  });
});

test('--publish: bad values get the docker CLI wording', (t) => {
  t.throws(() => parsePublish('published=80,target=8080,protocol=icmp'), {
    message: "invalid protocol value 'icmp'",
  });
  t.throws(() => parsePublish('target=80,mode=mesh'), {
    message: "invalid publish mode value (mesh): must be either 'ingress' or 'host'",
  });
  t.throws(() => parsePublish('target=80,colour=red'), { message: 'invalid field key colour' });
  t.throws(() => parsePublish('0:80'), { message: 'invalid published port: 0' });
  t.throws(() => parsePublish('8080:80/icmp'), { message: 'invalid published port: 8080:80/icmp' });
  t.throws(() => parsePublish('web'), { message: 'invalid published port: web' });
});

test('service update: --publish-rm by target (and protocol) or published:target; --publish-add', async (t) => {
  const spec = withServiceDefaults(
    await createSpec(['--name', 'web', '-p', '8080:80', '-p', '53:53/udp', '-p', '53:53']),
  );
  const a = await update(spec, ['--publish-rm', '53/udp']);
  t.deepEqual(
    a.EndpointSpec!.Ports!.map((p) => `${p.PublishedPort}:${p.TargetPort}/${p.Protocol}`),
    ['8080:80/tcp', '53:53/tcp'],
  );
  const b = await update(spec, ['--publish-rm', '8080:80', '--publish-add', 'published=8443,target=443']);
  t.deepEqual(
    b.EndpointSpec!.Ports!.map((p) => `${p.PublishedPort}:${p.TargetPort}/${p.Protocol}`),
    ['53:53/udp', '53:53/tcp', '8443:443/tcp'],
  );
  const c = await update(spec, ['--publish-add', '9090:80']);
  t.deepEqual(
    c.EndpointSpec!.Ports!.map((p) => `${p.PublishedPort}:${p.TargetPort}/${p.Protocol}`),
    ['9090:80/tcp', '53:53/udp', '53:53/tcp'],
    'adding a port with the same target and protocol replaces it',
  );
});

test('service update: --network-add/--network-rm compare resolved network IDs', async (t) => {
  const spec = withServiceDefaults(await createSpec(['--name', 'web']));
  spec.TaskTemplate.Networks = [{ Target: 'id-appnet' }];
  const added = await update(spec, ['--network-add', 'backnet', '--network-add', 'name=frontnet,alias=www']);
  t.deepEqual(added.TaskTemplate.Networks, [
    { Target: 'id-appnet' },
    { Target: 'id-backnet' },
    { Target: 'id-frontnet', Aliases: ['www'] },
  ]);
  const removed = await update(added, ['--network-rm', 'appnet', '--network-rm', 'id-frontnet']);
  t.deepEqual(removed.TaskTemplate.Networks, [{ Target: 'id-backnet' }]);
  await t.throwsAsync(update(spec, ['--network-add', 'appnet']), {
    message: 'service is already attached to network appnet',
  });
});

test('network create: flags become the request body the docker CLI sends', (t) => {
  let flags: NetworkCreateFlags | undefined;
  const program = new Command('tsswarm').exitOverride();
  registerNetwork(program);
  const create = program.commands
    .find((c) => c.name() === 'network')!
    .commands.find((c) => c.name() === 'create')!;
  create.action((_name: string, f: NetworkCreateFlags) => {
    flags = f;
  });
  program.parse(
    [
      'network',
      'create',
      '--subnet',
      '198.19.50.0/24',
      '--gateway',
      '198.19.50.254',
      '--ip-range',
      '198.19.50.128/25',
      '--attachable',
      '--label',
      'team=a',
      '-o',
      'mtu=1400',
      'appnet',
    ],
    { from: 'user' },
  );
  t.is(flags!.driver, 'overlay', 'overlay by default');
  t.deepEqual(networkCreateBody('appnet', flags!), {
    Name: 'appnet',
    Driver: 'overlay',
    Internal: false,
    Attachable: true,
    Ingress: false,
    IPAM: {
      Driver: 'default',
      Options: {},
      Config: [{ Subnet: '198.19.50.0/24', Gateway: '198.19.50.254', IPRange: '198.19.50.128/25' }],
    },
    Options: { mtu: '1400' },
    Labels: { team: 'a' },
  });
});

test('network create: gateways and ranges pair with the subnet that holds them', (t) => {
  t.deepEqual(ipamConfigs([], [], []), []);
  t.deepEqual(
    ipamConfigs(['198.19.1.0/24', '198.19.2.0/24'], ['198.19.2.9', '198.19.1.9'], ['198.19.2.0/25']),
    [
      { Subnet: '198.19.1.0/24', Gateway: '198.19.1.9' },
      { Subnet: '198.19.2.0/24', IPRange: '198.19.2.0/25', Gateway: '198.19.2.9' },
    ],
  );
  t.throws(() => ipamConfigs([], ['198.19.1.1'], []), {
    message: 'every ip-range or gateway must have a corresponding subnet',
  });
  t.throws(() => ipamConfigs(['198.19.1.0/24', '198.19.2.0/24'], ['198.19.3.1'], []), {
    message: 'no matching subnet for gateway 198.19.3.1',
  });
  t.throws(() => ipamConfigs(['198.19.1.0/24', '198.19.2.0/24'], ['198.19.1.1', '198.19.1.2'], []), {
    message: 'cannot configure multiple gateways for the same subnet',
  });
});
