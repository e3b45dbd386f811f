// `service update` flags applied to the current spec: scalar flags replace, -add/-rm flags edit lists.
import type { Command } from 'commander';
import {
  InvalidArgument,
  type NetworkAttachmentConfig,
  type PortConfig,
  type ServiceSpec,
} from '../../api/index.js';
import type { ServiceFlags } from './options.js';
import { applyScalarFlags } from './spec-flags.js';
import { configRefs, secretRefs, type NameResolver } from './create-spec.js';
import {
  parseEnv,
  parseLabels,
  parseMount,
  parseNetwork,
  parsePlacementPref,
  parsePublish,
  splitCommand,
} from './parse-opts.js';

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addUpdateListFlags(cmd: Command): Command {
  for (const name of [
    'env',
    'label',
    'container-label',
    'publish',
    'mount',
    'constraint',
    'placement-pref',
    'network',
    'secret',
    'config',
    'group',
    'host',
    'dns',
  ]) {
    cmd.option(`--${name}-add <value>`, `Add or update a ${name.replace('-', ' ')}`, collect, []);
    cmd.option(`--${name}-rm <value>`, `Remove a ${name.replace('-', ' ')}`, collect, []);
  }
  return cmd
    .option('--cap-add <cap>', 'Add Linux capabilities', collect, [])
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect, [])
    .option('--image <image>', 'Service image tag')
    .option('--args <command>', 'Service command args')
    .option('--force', 'Force update even if no changes require it')
    .option('--rollback', 'Rollback to previous specification');
}

export interface UpdateFlags extends ServiceFlags {
  image?: string;
  args?: string;
  force?: boolean;
  rollback?: boolean;
}

const keyOf = (kv: string): string => kv.split('=')[0]!;

/** Removes entries whose key is in `rm`, then adds/replaces `add` entries by key. */
function editByKey<T>(list: T[] | undefined, add: T[], rm: string[], key: (x: T) => string): T[] {
  const out = (list ?? []).filter((x) => !rm.includes(key(x)));
  for (const a of add) {
    const i = out.findIndex((x) => key(x) === key(a));
    if (i >= 0) out[i] = a;
    else out.push(a);
  }
  return out;
}

function editLabels(
  labels: Record<string, string> | undefined,
  add: string[],
  rm: string[],
): Record<string, string> {
  const out = { ...labels };
  for (const k of rm) delete out[keyOf(k)];
  return { ...out, ...parseLabels(add) };
}

/** A network name (or ID) → its ID, as the API resolves it. */
export type NetworkResolver = (ref: string) => Promise<string>;

/**
 * --network-rm/--network-add as the docker CLI applies them: the spec holds network IDs (the API resolved the names
 * at create), so names are resolved first; adding a network the service is on already is an error.
 */
async function editNetworks(
  current: NetworkAttachmentConfig[] | undefined,
  add: string[],
  rm: string[],
  resolve: NetworkResolver = async (ref) => ref,
): Promise<NetworkAttachmentConfig[]> {
  const rmIds = new Set([...rm, ...(await Promise.all(rm.map(resolve)))]);
  const out = (current ?? []).filter((n) => !rmIds.has(n.Target));
  for (const text of add) {
    const n = parseNetwork(text);
    const id = await resolve(n.Target);
    if (out.some((o) => o.Target === id || o.Target === n.Target))
      throw new InvalidArgument(`service is already attached to network ${n.Target}`);
    out.push({ ...n, Target: id });
  }
  return out;
}

export async function applyUpdateFlags(
  current: ServiceSpec,
  f: UpdateFlags,
  resolve: NameResolver,
  resolveNetwork?: NetworkResolver,
): Promise<ServiceSpec> {
  const spec: ServiceSpec = structuredClone(current);
  const t = spec.TaskTemplate;
  const c = (t.ContainerSpec ??= { Image: '' });
  const list = (name: string) => (f[name] as string[] | undefined) ?? [];
  if (f.image) c.Image = f.image;
  if (f.args !== undefined) c.Args = splitCommand(f.args);
  if (list('envAdd').length || list('envRm').length)
    c.Env = editByKey(c.Env, parseEnv(list('envAdd')), list('envRm'), keyOf);
  if (list('labelAdd').length || list('labelRm').length)
    spec.Labels = editLabels(spec.Labels, list('labelAdd'), list('labelRm'));
  if (list('containerLabelAdd').length || list('containerLabelRm').length) {
    c.Labels = editLabels(c.Labels, list('containerLabelAdd'), list('containerLabelRm'));
  }
  if (list('publishAdd').length || list('publishRm').length) {
    // As the docker CLI: a port is named by its target port and protocol ("80", "8080:80", "53/udp").
    const portKey = (p: PortConfig) => `${p.TargetPort}/${p.Protocol ?? 'tcp'}`;
    const rm = list('publishRm').map((p) => portKey(parsePublish(p)));
    const ports = editByKey(spec.EndpointSpec?.Ports, list('publishAdd').map(parsePublish), rm, portKey);
    spec.EndpointSpec = { ...spec.EndpointSpec, Ports: ports };
  }
  if (list('mountAdd').length || list('mountRm').length)
    c.Mounts = editByKey(c.Mounts, list('mountAdd').map(parseMount), list('mountRm'), (m) => m.Target);
  if (list('constraintAdd').length || list('constraintRm').length) {
    t.Placement = {
      ...t.Placement,
      Constraints: editByKey(t.Placement?.Constraints, list('constraintAdd'), list('constraintRm'), (x) => x),
    };
  }
  if (list('placementPrefAdd').length || list('placementPrefRm').length) {
    const rm = list('placementPrefRm').map((p) => parsePlacementPref(p).Spread.SpreadDescriptor);
    t.Placement = {
      ...t.Placement,
      Preferences: editByKey(
        t.Placement?.Preferences,
        list('placementPrefAdd').map(parsePlacementPref),
        rm,
        (p) => p.Spread.SpreadDescriptor,
      ),
    };
  }
  if (list('networkAdd').length || list('networkRm').length)
    t.Networks = await editNetworks(t.Networks, list('networkAdd'), list('networkRm'), resolveNetwork);
  if (list('secretAdd').length || list('secretRm').length) {
    c.Secrets = editByKey(
      c.Secrets,
      await secretRefs(list('secretAdd'), resolve),
      list('secretRm'),
      (s) => s.SecretName,
    );
  }
  if (list('configAdd').length || list('configRm').length) {
    c.Configs = editByKey(
      c.Configs,
      await configRefs(list('configAdd'), resolve),
      list('configRm'),
      (s) => s.ConfigName,
    );
  }
  if (list('groupAdd').length || list('groupRm').length)
    c.Groups = editByKey(c.Groups, list('groupAdd'), list('groupRm'), (x) => x);
  if (list('capAdd').length) c.CapabilityAdd = [...new Set([...(c.CapabilityAdd ?? []), ...list('capAdd')])];
  if (list('capDrop').length)
    c.CapabilityDrop = [...new Set([...(c.CapabilityDrop ?? []), ...list('capDrop')])];
  applyScalarFlags(spec, f);
  if (f.force) t.ForceUpdate = (t.ForceUpdate ?? 0) + 1;
  return spec;
}
