// Container records in the Docker Engine API's shapes: GET /containers/json entries and GET /containers/{id}/json,
// and the list filters (label, status, name, id) with Docker's errors.
import { InvalidArgument } from '../../api/index.js';
import type { ContainerRecord } from '../../runtime/index.js';

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

/** Docker's units.HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.round(s / 60);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.round(s / 3600);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.round(h / 24)} days`;
  return `${Math.round(h / 24 / 7)} weeks`;
}

export function statusText(r: ContainerRecord, now = Date.now()): string {
  const s = r.State;
  if (s.Running) {
    const health = s.Health
      ? s.Health.Status === 'starting'
        ? ' (health: starting)'
        : ` (${s.Health.Status})`
      : '';
    return `Up ${humanDuration(now - Date.parse(s.StartedAt))}${health}`;
  }
  if (s.Status === 'removing') return 'Removal In Progress';
  if (s.Status === 'created') return 'Created';
  return `Exited (${s.ExitCode}) ${humanDuration(now - Date.parse(s.FinishedAt))} ago`;
}

function networks(r: ContainerRecord): Record<string, unknown> {
  return {
    [r.Network]: {
      IPAMConfig: null,
      Links: null,
      Aliases: null,
      NetworkID: '',
      EndpointID: '',
      Gateway: '',
      IPAddress: '',
      IPPrefixLen: 0,
      IPv6Gateway: '',
      GlobalIPv6Address: '',
      GlobalIPv6PrefixLen: 0,
      MacAddress: '',
    },
  };
}

export function summaryBody(r: ContainerRecord): Record<string, unknown> {
  return {
    Id: r.Id,
    Names: [`/${r.Name}`],
    Image: r.Config.Image,
    ImageID: r.ImageID,
    Command: [r.Path, ...r.Args].join(' '),
    Created: Math.floor(Date.parse(r.Created) / 1000),
    Ports: [],
    Labels: r.Config.Labels ?? {},
    State: r.State.Status,
    Status: statusText(r),
    HostConfig: { NetworkMode: r.HostConfig.NetworkMode ?? 'default' },
    NetworkSettings: { Networks: networks(r) },
    Mounts: r.Mounts,
  };
}

export function inspectBody(r: ContainerRecord, dir: string, execIds: string[]): Record<string, unknown> {
  return {
    Id: r.Id,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: r.State,
    Image: r.ImageID,
    ResolvConfPath: r.Network === 'host' ? '/etc/resolv.conf' : '',
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: `${dir}/container.log`,
    Name: `/${r.Name}`,
    RestartCount: r.RestartCount,
    Driver: 'overlay2',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: execIds.length ? execIds : null,
    HostConfig: {
      Binds: null,
      Mounts: [],
      Tmpfs: {},
      ReadonlyRootfs: false,
      CapAdd: null,
      CapDrop: null,
      Memory: 0,
      NanoCpus: 0,
      CpuShares: 0,
      CpuQuota: 0,
      CpuPeriod: 0,
      PidsLimit: null,
      AutoRemove: false,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      ...r.HostConfig,
    },
    GraphDriver: {
      Name: 'overlay2',
      Data: { MergedDir: `${dir}/rootfs`, UpperDir: `${dir}/upper`, WorkDir: `${dir}/work` },
    },
    Mounts: r.Mounts,
    Config: {
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: false,
      OpenStdin: false,
      StdinOnce: false,
      ...r.Config,
    },
    NetworkSettings: { Bridge: '', SandboxID: '', Ports: {}, SandboxKey: '', Networks: networks(r) },
  };
}

/** Docker's filters query: {"label":{"a=b":true}} or {"label":["a=b"]}. */
export function parseFilters(text: string | undefined): Record<string, string[]> {
  if (!text) return {};
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidArgument(`invalid filter: ${text}`);
  }
  if (!raw || typeof raw !== 'object') throw new InvalidArgument(`invalid filter: ${text}`);
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(raw as Record<string, unknown>))
    out[k] = Array.isArray(v) ? v.map(String) : Object.keys((v ?? {}) as object);
  return out;
}

function matchesName(pattern: string, name: string): boolean {
  try {
    return new RegExp(pattern).test(`/${name}`);
  } catch {
    return `/${name}`.includes(pattern);
  }
}

function matchesLabel(want: string, labels: Record<string, string>): boolean {
  const eq = want.indexOf('=');
  if (eq < 0) return want in labels;
  return labels[want.slice(0, eq)] === want.slice(eq + 1);
}

/** Applies ?all and ?filters as dockerd does: a status filter lists stopped containers without all. */
export function filterContainers(
  list: ContainerRecord[],
  all: boolean,
  filters: Record<string, string[]>,
): ContainerRecord[] {
  for (const [k, vs] of Object.entries(filters)) {
    if (!['label', 'status', 'name', 'id'].includes(k)) throw new InvalidArgument(`invalid filter '${k}'`);
    if (k === 'status')
      for (const v of vs)
        if (!STATUSES.includes(v)) throw new InvalidArgument(`invalid filter 'status=${v}'`);
  }
  const { label = [], status = [], name = [], id = [] } = filters;
  return list.filter(
    (r) =>
      (all || status.length > 0 || r.State.Running) &&
      label.every((l) => matchesLabel(l, r.Config.Labels ?? {})) &&
      (status.length === 0 || status.includes(r.State.Status)) &&
      (name.length === 0 || name.some((n) => matchesName(n, r.Name))) &&
      (id.length === 0 || id.some((i) => r.Id.startsWith(i))),
  );
}
