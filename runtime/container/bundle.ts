// Turns a checked create body and its image into a container directory: merged Config (as Docker merges the
// image's), mounts, overlay root, /etc/hosts and /etc/hostname, and the OCI bundle's config.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { join } from 'node:path';
import { InvalidArgument, NotFound } from '../../api/index.js';
import type { ResolvedImage } from '../image/types.js';
import { mergeCommand, mergeEnv } from './command.js';
import { asList, checkLogConfig, checkResources, parseSignal, type CreateBody } from './create-request.js';
import { mergeHealthConfig } from './health.js';
import { checkFiles, mountFiles, type ContainerFile } from './memory-files.js';
import { resolveMounts, type VolumeDirs } from './mounts.js';
import { buildOciSpec, type OciMount } from './oci-spec.js';
import { mountRootfs } from './rootfs.js';
import { newState, type ContainerRecord, type StoredConfig } from './state-files.js';
import { resolveUser, type ResolvedUser } from './user.js';

export function networkOf(mode: string | undefined): 'none' | 'host' {
  const m = mode || 'default';
  if (m === 'host') return 'host';
  // Bridge networking comes with the overlay issue: "default"/"bridge" get their own namespace with loopback.
  if (m === 'none' || m === 'default' || m === 'bridge') return 'none';
  if (m.startsWith('container:')) throw new InvalidArgument(`network mode "${m}" is not supported yet`);
  throw new NotFound(`network ${m} not found`);
}

function readEtc(rootfs: string, file: string): string {
  try {
    return readFileSync(join(rootfs, 'etc', file), 'utf8');
  } catch {
    return '';
  }
}

export function userOf(rootfs: string, spec: string | undefined, groups: string[] = []): ResolvedUser {
  return resolveUser(spec, readEtc(rootfs, 'passwd'), readEtc(rootfs, 'group'), groups);
}

/** Merges the body over the image's config as Docker stores it in the container (what inspect shows as Config). */
export function mergedConfig(body: CreateBody, image: ResolvedImage, hostname: string): StoredConfig {
  const ic = image.config;
  const entrypoint = asList(body.Entrypoint);
  const cmd = asList(body.Cmd);
  const resetEntrypoint = entrypoint !== undefined && entrypoint.every((e) => e === '');
  const env = mergeEnv(ic.Env, body.Env ?? undefined, hostname).filter((e) => !e.startsWith('HOSTNAME='));
  return {
    Hostname: hostname,
    Domainname: body.Domainname ?? '',
    User: body.User || ic.User || '',
    Tty: !!body.Tty,
    OpenStdin: !!body.OpenStdin,
    Env: env,
    Cmd: cmd ?? (entrypoint ? null : (ic.Cmd ?? null)),
    Entrypoint: resetEntrypoint ? null : (entrypoint ?? ic.Entrypoint ?? null),
    Image: body.Image!,
    Labels: { ...(ic.Labels ?? {}), ...(body.Labels ?? {}) },
    WorkingDir: body.WorkingDir || ic.WorkingDir || '',
    StopSignal: body.StopSignal || ic.StopSignal || 'SIGTERM',
    ...(body.StopTimeout !== undefined && body.StopTimeout !== null ? { StopTimeout: body.StopTimeout } : {}),
    ...(mergeHealthConfig(body.Healthcheck, ic.Healthcheck)
      ? { Healthcheck: mergeHealthConfig(body.Healthcheck, ic.Healthcheck) }
      : {}),
  };
}

export interface BundleInput {
  id: string;
  name: string;
  dir: string;
  body: CreateBody;
  image: ResolvedImage;
  volumes: VolumeDirs;
  /** Filled with volume directories this call created (for cleanup when it fails). */
  createdVolumes: string[];
  /** Files held on a tmpfs and bind-mounted read-only (secrets, configs). */
  files?: ContainerFile[];
  /** A network namespace made for the container beforehand (overlay attachments): it joins that one. */
  netns?: string;
}

/** Writes the container directory; the caller removes `dir` (and the created volumes) when this throws. */
export async function prepareBundle(i: BundleInput): Promise<ContainerRecord> {
  const h = i.body.HostConfig ?? {};
  const network = networkOf(h.NetworkMode);
  const hostname = i.body.Hostname || (network === 'host' ? osHostname() : i.id.slice(0, 12));
  const config = mergedConfig(i.body, i.image, hostname);
  // config already holds Docker's merge (a given Entrypoint drops the image's Cmd): argv is their concatenation.
  const argv = mergeCommand({}, { entrypoint: config.Entrypoint ?? [], args: config.Cmd ?? [] });
  parseSignal(config.StopSignal!);
  const log = checkLogConfig(h.LogConfig);
  const { nanoCpus } = checkResources(h);
  const mounts = resolveMounts(h, i.volumes);
  i.createdVolumes.push(...mounts.createdVolumes);
  const files = checkFiles(
    i.files ?? [],
    mounts.points.map((p) => p.Destination),
  );
  const rootfs = await mountRootfs(i.dir, i.image.layerDirs);
  const fileMounts = await mountFiles(i.dir, files);
  const user = userOf(rootfs, config.User, h.GroupAdd ?? []);
  if (config.WorkingDir) {
    if (!config.WorkingDir.startsWith('/'))
      throw new InvalidArgument(
        `the working directory '${config.WorkingDir}' is invalid, it needs to be an absolute path`,
      );
    const wd = join(rootfs, config.WorkingDir);
    if (!existsSync(wd)) mkdirSync(wd, { recursive: true, mode: 0o755 });
  }
  writeFileSync(join(i.dir, 'hostname'), `${hostname}\n`);
  writeFileSync(
    join(i.dir, 'hosts'),
    `127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t${hostname}\n`,
  );
  const etc: OciMount[] = [
    {
      destination: '/etc/hostname',
      type: 'bind',
      source: join(i.dir, 'hostname'),
      options: ['rbind', 'rprivate'],
    },
    { destination: '/etc/hosts', type: 'bind', source: join(i.dir, 'hosts'), options: ['rbind', 'rprivate'] },
  ];
  if (network === 'host' && existsSync('/etc/resolv.conf'))
    etc.push({
      destination: '/etc/resolv.conf',
      type: 'bind',
      source: '/etc/resolv.conf',
      options: ['rbind', 'rprivate', 'ro'],
    });
  const spec = buildOciSpec({
    rootfs,
    readonlyRootfs: !!h.ReadonlyRootfs,
    argv,
    env: mergeEnv(i.image.config.Env, i.body.Env ?? undefined, hostname),
    cwd: config.WorkingDir || '/',
    user,
    hostname,
    mounts: [...etc, ...mounts.oci, ...fileMounts],
    capAdd: h.CapAdd ?? [],
    capDrop: h.CapDrop ?? [],
    memory: h.Memory || undefined,
    nanoCpus: nanoCpus || undefined,
    cpuShares: h.CpuShares || undefined,
    pids: h.PidsLimit && h.PidsLimit > 0 ? h.PidsLimit : undefined,
    network: i.netns ? { path: i.netns } : network,
    cgroupsPath: `/tss/${i.id}`,
    annotations: { 'org.tsswarm.container.name': i.name },
    oomScoreAdj: h.OomScoreAdj,
  });
  writeFileSync(join(i.dir, 'config.json'), JSON.stringify(spec));
  return {
    Id: i.id,
    Name: i.name,
    Created: new Date().toISOString(),
    ImageID: i.image.id,
    Path: argv[0]!,
    Args: argv.slice(1),
    Config: config,
    HostConfig: {
      ...h,
      NetworkMode: h.NetworkMode || 'default',
      LogConfig: { Type: log.type, Config: h.LogConfig?.Config ?? {} },
    },
    Mounts: mounts.points,
    State: newState(),
    RestartCount: 0,
    Log: log,
    Network: network,
    ...(i.netns ? { NetnsPath: i.netns } : {}),
    Volumes: mounts.createdVolumes,
  };
}
