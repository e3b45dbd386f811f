// `service create` flags → a complete ServiceSpec (secrets and configs resolved to IDs by the caller's lookup).
import type { ConfigReference, SecretReference, ServiceMode, ServiceSpec } from '../../api/index.js';
import type { ServiceFlags } from './options.js';
import { applyScalarFlags } from './spec-flags.js';
import {
  parseEnv,
  parseFileRef,
  parseLabels,
  parseMount,
  parseNetwork,
  parsePlacementPref,
  parsePublish,
} from './parse-opts.js';

/** Resolves secret/config names to IDs through the API. */
export type NameResolver = (kind: 'secret' | 'config', name: string) => Promise<string>;

function modeFrom(flags: ServiceFlags): ServiceMode {
  switch (flags.mode ?? 'replicated') {
    case 'global':
      return { Global: {} };
    case 'replicated-job':
      return { ReplicatedJob: { MaxConcurrent: 1, TotalCompletions: 1 } };
    case 'global-job':
      return { GlobalJob: {} };
    default:
      return { Replicated: { Replicas: 1 } };
  }
}

export async function secretRefs(list: string[], resolve: NameResolver): Promise<SecretReference[]> {
  return Promise.all(
    list.map(async (text) => {
      const r = parseFileRef(text, 0o444);
      return {
        File: { Name: r.target, UID: r.uid, GID: r.gid, Mode: r.mode },
        SecretID: await resolve('secret', r.source),
        SecretName: r.source,
      };
    }),
  );
}

export async function configRefs(list: string[], resolve: NameResolver): Promise<ConfigReference[]> {
  return Promise.all(
    list.map(async (text) => {
      const r = parseFileRef(text, 0o444);
      const target = text.includes('=') ? r.target : `/${r.source}`;
      return {
        File: { Name: target, UID: r.uid, GID: r.gid, Mode: r.mode },
        ConfigID: await resolve('config', r.source),
        ConfigName: r.source,
      };
    }),
  );
}

export async function buildCreateSpec(
  image: string,
  args: string[],
  f: ServiceFlags,
  resolve: NameResolver,
): Promise<ServiceSpec> {
  const env = parseEnv(f.env ?? [], f.envFile ?? []);
  const spec: ServiceSpec = {
    Name: f.name ?? '',
    Labels: parseLabels(f.label ?? []),
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        ...(args.length ? { Args: args } : {}),
        ...(env.length ? { Env: env } : {}),
        Labels: parseLabels(f.containerLabel ?? []),
        ...(f.mount?.length ? { Mounts: f.mount.map(parseMount) } : {}),
        ...(f.group?.length ? { Groups: f.group } : {}),
        ...(f.host?.length ? { Hosts: f.host.map((h) => h.replace(/^([^:]+):(.*)$/, '$2 $1')) } : {}),
        ...(f.capAdd?.length ? { CapabilityAdd: f.capAdd } : {}),
        ...(f.capDrop?.length ? { CapabilityDrop: f.capDrop } : {}),
        ...(f.sysctl?.length ? { Sysctls: parseLabels(f.sysctl) } : {}),
        DNSConfig: {
          ...(f.dns?.length ? { Nameservers: f.dns } : {}),
          ...(f.dnsSearch?.length ? { Search: f.dnsSearch } : {}),
          ...(f.dnsOption?.length ? { Options: f.dnsOption } : {}),
        },
      },
      Placement: {
        ...(f.constraint?.length ? { Constraints: f.constraint } : {}),
        ...(f.placementPref?.length ? { Preferences: f.placementPref.map(parsePlacementPref) } : {}),
      },
      ...(f.network?.length ? { Networks: f.network.map(parseNetwork) } : {}),
    },
    Mode: modeFrom(f),
    EndpointSpec: { Mode: 'vip', ...(f.publish?.length ? { Ports: f.publish.map(parsePublish) } : {}) },
  };
  const c = spec.TaskTemplate.ContainerSpec!;
  if (f.secret?.length) c.Secrets = await secretRefs(f.secret, resolve);
  if (f.config?.length) c.Configs = await configRefs(f.config, resolve);
  applyScalarFlags(spec, f);
  // A job's concurrency defaults to its completions (--replicas), as the docker CLI does.
  const job = spec.Mode?.ReplicatedJob;
  if (job && f.maxConcurrent === undefined) job.MaxConcurrent = job.TotalCompletions;
  return spec;
}
