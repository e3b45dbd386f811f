// /networks routes: swarm-scoped overlay networks, created already allocated (subnet, gateway, VNI) inside the
// store transaction that writes them, listed and inspected in Docker's NetworkResource shape, removed when unused.
import type { FastifyInstance } from 'fastify';
import {
  Conflict,
  InvalidArgument,
  NotFound,
  PermissionDenied,
  Unimplemented,
  newId,
  parseDuration,
  type IPAMConfig,
  type Network,
  type NetworkSpec,
  type Service,
} from '../../api/index.js';
import {
  DEFAULT_POOLS,
  allocateNetworkStatus,
  isAllocated,
  isIngress,
  taskDead,
  usesIngress,
  type AddressPools,
} from '../allocator/index.js';
import type { ReadTx, WriteTx } from '../store/index.js';
import type { StoreSource } from './store-source.js';
import { matchExact, matchLabels, matchPrefix, parseFilters, type Filters } from './filters.js';
import { lookup, requireBody } from './lookup.js';
import { taskName } from './tasks.js';

/** What `docker network create` sends (POST /networks/create). */
interface NetworkCreateRequest {
  Name?: unknown;
  Driver?: string;
  Scope?: string;
  Internal?: boolean;
  Attachable?: boolean;
  Ingress?: boolean;
  EnableIPv4?: boolean | null;
  EnableIPv6?: boolean | null;
  ConfigOnly?: boolean;
  ConfigFrom?: { Network?: string } | null;
  IPAM?: { Driver?: string; Options?: Record<string, string> | null; Config?: IPAMConfig[] | null } | null;
  Options?: Record<string, string> | null;
  Labels?: Record<string, string> | null;
  CheckDuplicate?: boolean;
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
/** Docker's own networks: their names cannot be taken. */
const PREDEFINED = ['bridge', 'host', 'none', 'default'];

function validateName(name: unknown): asserts name is string {
  if (name === undefined || name === null || name === '')
    throw new InvalidArgument('network name must be provided');
  if (typeof name !== 'string' || !NAME_RE.test(name) || name.length > 63)
    throw new InvalidArgument(
      `invalid network name "${String(name)}": it must match [a-zA-Z0-9][a-zA-Z0-9_.-]* and be at most 63 characters`,
    );
  if (PREDEFINED.includes(name))
    throw new PermissionDenied(`${name} is a pre-defined network and cannot be created`);
}

function flag(what: string, v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw new InvalidArgument(`${what} must be a boolean`);
  return v;
}

function stringMap(what: string, v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw new InvalidArgument(`${what} must be an object of strings`);
  return { ...(v as Record<string, string>) };
}

/** One IPAM config with the CLI's empty strings dropped; undefined when nothing is left. */
function ipamConfig(c: unknown): IPAMConfig | undefined {
  if (c === null || typeof c !== 'object' || Array.isArray(c))
    throw new InvalidArgument('IPAM.Config entries must be objects');
  const raw = c as Record<string, unknown>;
  if (Object.keys(stringMap('IPAM.Config.AuxiliaryAddresses', raw.AuxiliaryAddresses)).length)
    throw new InvalidArgument('auxiliary addresses (--aux-address) are not supported on overlay networks');
  const out: IPAMConfig = {};
  for (const k of ['Subnet', 'IPRange', 'Gateway'] as const) {
    const v = raw[k];
    if (v === undefined || v === null || v === '') continue;
    if (typeof v !== 'string') throw new InvalidArgument(`IPAM.Config.${k} must be a string`);
    out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

/** The stored spec of a create request, refusing what swarm overlay networks here cannot do. */
function specFrom(req: NetworkCreateRequest, name: string): NetworkSpec {
  const driver = req.Driver || 'overlay';
  if (driver !== 'overlay')
    throw new InvalidArgument(
      `network driver "${driver}" is not supported: swarm networks use the "overlay" driver (--driver overlay)`,
    );
  if (req.Scope && req.Scope !== 'swarm')
    throw new InvalidArgument(`invalid scope "${req.Scope}": overlay networks are swarm-scoped`);
  if (req.EnableIPv6) throw new InvalidArgument('IPv6 is not supported on overlay networks');
  if (req.EnableIPv4 === false) throw new InvalidArgument('IPv4 cannot be disabled on overlay networks');
  if (req.ConfigOnly || req.ConfigFrom?.Network)
    throw new InvalidArgument('configuration-only networks (--config-only, --config-from) are not supported');
  const ingress = flag('Ingress', req.Ingress);
  const attachable = flag('Attachable', req.Attachable);
  if (ingress && attachable) throw new InvalidArgument('ingress network cannot be attachable');
  const options = stringMap('Options', req.Options);
  // Accepting it would promise encryption the data plane does not do.
  if ('encrypted' in options) throw new InvalidArgument('encrypted overlay networks are not supported');
  const ipam = req.IPAM ?? {};
  const ipamDriver = ipam.Driver || 'default';
  if (ipamDriver !== 'default')
    throw new InvalidArgument(`IPAM driver "${ipamDriver}" is not supported (only "default")`);
  const ipamOptions = stringMap('IPAM.Options', ipam.Options);
  if (ipam.Config !== undefined && ipam.Config !== null && !Array.isArray(ipam.Config))
    throw new InvalidArgument('IPAM.Config must be a list');
  const configs = (ipam.Config ?? []).flatMap((c) => ipamConfig(c) ?? []);
  if (configs.length > 1)
    throw new InvalidArgument('only one IPAM config (one --subnet) is supported per overlay network');
  return {
    Name: name,
    Labels: stringMap('Labels', req.Labels),
    DriverConfiguration: { Name: 'overlay', ...(Object.keys(options).length ? { Options: options } : {}) },
    Internal: flag('Internal', req.Internal),
    Attachable: attachable,
    Ingress: ingress,
    Scope: 'swarm',
    IPAMOptions: {
      Driver: { Name: 'default', ...(Object.keys(ipamOptions).length ? { Options: ipamOptions } : {}) },
      ...(configs.length ? { Configs: configs } : {}),
    },
  };
}

/** The cluster's address pools (`swarm init --default-addr-pool`), or Docker's defaults. */
function poolsOf(tx: ReadTx): AddressPools {
  const c = tx.all('cluster')[0];
  return c?.DefaultAddrPool?.length
    ? { DefaultAddrPool: c.DefaultAddrPool, SubnetSize: c.SubnetSize || DEFAULT_POOLS.SubnetSize }
    : DEFAULT_POOLS;
}

/**
 * Orders this transaction against every other that does the same: the cluster object is written back unchanged,
 * so of two transactions built on the same state the second fails its version check at commit and `store.update`
 * builds it again on the new state (where it sees the first one's network). Nothing to order on without a
 * cluster object (unit tests with a bare store).
 */
export function serializeClusterWrites(tx: WriteTx): void {
  const c = tx.all('cluster')[0];
  if (c) tx.update('cluster', c);
}

/** Why `n` cannot be removed now (Docker's wording), or undefined when nothing uses it. */
export function networkInUse(tx: ReadTx, n: Network): string | undefined {
  const refers = (s: Service) =>
    [...(s.Spec.TaskTemplate.Networks ?? []), ...(s.Spec.Networks ?? [])].some(
      (a) => a.Target === n.ID || a.Target === n.Spec.Name,
    );
  const publishes = (s: Service) =>
    usesIngress(s.Spec.EndpointSpec) ||
    (s.Endpoint?.Ports ?? []).some((p) => isIngress(p) && !!p.PublishedPort);
  const services = tx.all('service').sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name));
  const user = services.find(refers);
  if (user) return `network ${n.Spec.Name} is in use by service ${user.Spec.Name}`;
  if (n.Spec.Ingress) {
    const dependent = services.find(publishes);
    if (dependent)
      return `ingress network cannot be removed because service ${dependent.Spec.Name} depends on it`;
  }
  const task = tx
    .all('task')
    .find(
      (t) =>
        !taskDead(t) &&
        ((t.NetworksAttachments ?? []).some((a) => a.Network.ID === n.ID) ||
          (t.Spec.Networks ?? []).some((a) => a.Target === n.ID)),
    );
  if (task) return `network ${n.Spec.Name} is in use by task ${task.ID}`;
  return undefined;
}

/** Docker's NetworkResource for a swarm network, as `docker network ls` and `inspect` read it. */
export function networkResource(n: Network): Record<string, unknown> {
  const ipam = n.IPAMOptions ?? n.Spec.IPAMOptions;
  return {
    Name: n.Spec.Name,
    Id: n.ID,
    Created: n.CreatedAt,
    Scope: 'swarm',
    Driver: n.DriverState?.Name || n.Spec.DriverConfiguration?.Name || 'overlay',
    EnableIPv4: true,
    EnableIPv6: n.Spec.IPv6Enabled ?? false,
    IPAM: {
      Driver: ipam?.Driver?.Name || 'default',
      Options: ipam?.Driver?.Options ?? null,
      Config: (ipam?.Configs ?? []).map((c) => ({
        Subnet: c.Subnet ?? '',
        ...(c.IPRange ? { IPRange: c.IPRange } : {}),
        Gateway: c.Gateway ?? '',
      })),
    },
    Internal: n.Spec.Internal ?? false,
    Attachable: n.Spec.Attachable ?? false,
    Ingress: n.Spec.Ingress ?? false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: {},
    Options: { ...(n.DriverState?.Options ?? n.Spec.DriverConfiguration?.Options) },
    Labels: n.Spec.Labels ?? {},
  };
}

const bare = (addr: string | undefined): string => (addr ?? '').split('/')[0]!;

/** `?verbose=true`: the services with a VIP or live tasks on the network, and the nodes those tasks run on. */
function verboseParts(tx: ReadTx, n: Network): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  const peers = new Map<string, { Name: string; IP: string }>();
  for (const s of tx.all('service')) {
    const vip = s.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === n.ID)?.Addr;
    const tasks = tx.find('task', 'service', s.ID).flatMap((t) => {
      const a = taskDead(t) ? undefined : t.NetworksAttachments?.find((x) => x.Network.ID === n.ID);
      if (!a) return [];
      const node = t.NodeID ? tx.get('node', t.NodeID) : undefined;
      if (node) peers.set(node.ID, { Name: node.Description?.Hostname ?? node.ID, IP: node.Status.Addr });
      return [
        {
          Name: `${taskName(s, t)}.${t.ID}`,
          EndpointID: '',
          EndpointIP: bare(a.Addresses[0]),
          Info: { 'Host IP': node?.Status.Addr ?? '' },
        },
      ];
    });
    if (!vip && !tasks.length) continue;
    services[s.Spec.Name] = {
      VIP: bare(vip),
      Ports: (s.Endpoint?.Ports ?? []).map(
        (p) => `Target: ${p.TargetPort}, Publish: ${p.PublishedPort ?? 0}, Protocol: ${p.Protocol ?? 'tcp'}`,
      ),
      LocalLBIndex: 0,
      Tasks: tasks,
    };
  }
  return { Services: services, Peers: [...peers.values()] };
}

const TYPES = ['custom', 'builtin'];

function checkEnum(f: Filters, key: string, allowed: string[]): void {
  for (const v of f.get(key) ?? [])
    if (!allowed.includes(v)) throw new InvalidArgument(`invalid filter '${key}=${v}'`);
}

/** `until` of prune filters: a Unix time, an RFC 3339 time, or a duration back from now ("24h"). */
function parseUntil(text: string, now: number): number {
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  try {
    return now - parseDuration(text) / 1e6;
  } catch {
    const t = Date.parse(text);
    if (Number.isNaN(t)) throw new InvalidArgument(`invalid filter 'until=${text}'`);
    return t;
  }
}

/** `label!=k` / `label!=k=v`: none of them may match. */
function matchNoLabels(f: Filters, key: string, labels: Record<string, string> | undefined): boolean {
  return (f.get(key) ?? []).every((w) => !matchLabels(new Map([['label', [w]]]), 'label', labels));
}

export function networkRoutes(store: StoreSource) {
  return (app: FastifyInstance): void => {
    app.post('/networks/create', async (req, reply) => {
      const body = requireBody<NetworkCreateRequest>(req.body, 'network create');
      validateName(body.Name);
      const name = body.Name;
      // Docker answers a taken name before looking at the rest of the request.
      store().view((tx) => {
        if (tx.find('network', 'name', name).length)
          throw new Conflict(`network with name ${name} already exists`);
      });
      const spec = specFrom(body, name);
      const id = newId();
      await store().update((tx) => {
        const existing = tx.all('network');
        const ingress = spec.Ingress && existing.find((n) => n.Spec.Ingress);
        if (ingress) throw new Conflict(`ingress network (${ingress.ID}) is already present`);
        // A network not allocated yet (older data) still holds the subnet its spec asks for.
        const taken = existing.map((n) => (isAllocated(n) ? n : { ...n, IPAMOptions: n.Spec.IPAMOptions }));
        const network: Network = {
          ID: id,
          Version: { Index: 0 },
          CreatedAt: '',
          UpdatedAt: '',
          Spec: spec,
          ...allocateNetworkStatus(spec, taken, poolsOf(tx)),
        };
        serializeClusterWrites(tx);
        tx.create('network', network);
      });
      void reply.code(201);
      return { Id: id, Warning: '' };
    });

    app.get('/networks', async (req) => {
      const f = parseFilters((req.query as { filters?: string }).filters, [
        'dangling',
        'driver',
        'id',
        'label',
        'name',
        'scope',
        'type',
      ]);
      checkEnum(f, 'type', TYPES);
      checkEnum(f, 'dangling', ['true', 'false', '1', '0']);
      const dangling = f.get('dangling')?.[0];
      return store().view((tx) =>
        tx
          .all('network')
          .filter(
            (n) =>
              matchPrefix(f, 'id', n.ID) &&
              (f.get('name') ?? []).every((w) => n.Spec.Name.includes(w)) &&
              matchLabels(f, 'label', n.Spec.Labels) &&
              matchExact(f, 'driver', n.DriverState?.Name || n.Spec.DriverConfiguration?.Name || 'overlay') &&
              matchExact(f, 'scope', 'swarm') &&
              matchExact(f, 'type', 'custom') &&
              (dangling === undefined ||
                ['true', '1'].includes(dangling) === (!n.Spec.Ingress && !networkInUse(tx, n))),
          )
          .sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))
          .map(networkResource),
      );
    });

    app.get('/networks/:id', async (req) => {
      const { id } = req.params as { id: string };
      const q = req.query as { verbose?: string; scope?: string };
      if (q.scope && q.scope !== 'swarm') throw new NotFound(`network ${id} not found`);
      return store().view((tx) => {
        const n = lookup(tx, 'network', id);
        const verbose = q.verbose === 'true' || q.verbose === '1';
        return { ...networkResource(n), ...(verbose ? verboseParts(tx, n) : {}) };
      });
    });

    app.delete('/networks/:id', async (req, reply) => {
      const { id } = req.params as { id: string };
      await store().update((tx) => {
        const n = lookup(tx, 'network', id);
        const why = networkInUse(tx, n);
        if (why) throw new Conflict(why);
        serializeClusterWrites(tx);
        tx.delete('network', n.ID);
      });
      void reply.code(204);
      return '';
    });

    app.post('/networks/prune', async (req) => {
      const f = parseFilters((req.query as { filters?: string }).filters, ['label', 'label!', 'until']);
      const until = f.get('until')?.length ? parseUntil(f.get('until')![0]!, Date.now()) : undefined;
      let deleted: string[] = [];
      await store().update((tx) => {
        deleted = [];
        for (const n of tx.all('network')) {
          if (n.Spec.Ingress || networkInUse(tx, n)) continue;
          if (!matchLabels(f, 'label', n.Spec.Labels) || !matchNoLabels(f, 'label!', n.Spec.Labels)) continue;
          if (until !== undefined && !(Date.parse(n.CreatedAt) < until)) continue;
          tx.delete('network', n.ID);
          deleted.push(n.Spec.Name);
        }
        if (deleted.length) serializeClusterWrites(tx);
      });
      return { NetworksDeleted: deleted.sort() };
    });

    for (const op of ['connect', 'disconnect'] as const) {
      app.post(`/networks/:id/${op}`, async (req) => {
        const { id } = req.params as { id: string };
        const n = store().view((tx) => lookup(tx, 'network', id));
        throw new Unimplemented(
          `cannot ${op} a container ${op === 'connect' ? 'to' : 'from'} network ${n.Spec.Name} by hand: ` +
            'swarm services join networks through their spec (service create --network, ' +
            'service update --network-add/--network-rm)',
        );
      });
    }
  };
}
