// /services routes: create, list, inspect, update (incl. rollback), remove.
import type { FastifyInstance } from 'fastify';
import {
  FailedPrecondition,
  InvalidArgument,
  NotFound,
  newId,
  validateServiceSpec,
  canonicalServiceSpec,
  withServiceDefaults,
  Conflict,
  type PortConfig,
  type Service,
  type ServiceSpec,
  type Task,
} from '../../api/index.js';
import { isIngress, portInUseMessage } from '../allocator/index.js';
import type { ReadTx } from '../store/index.js';
import type { StoreSource } from './store-source.js';
import { parseConstraints } from '../../scheduler/index.js';
import { matchExact, matchLabels, matchNamePrefix, matchPrefix, parseFilters } from './filters.js';
import { lookup, parseVersion, requireBody } from './lookup.js';

function modeOf(spec: ServiceSpec): string {
  const m = spec.Mode ?? {};
  if (m.Global) return 'global';
  if (m.ReplicatedJob) return 'replicated-job';
  if (m.GlobalJob) return 'global-job';
  return 'replicated';
}

/** Secrets and configs a spec references must exist, with the names the client gave. */
function checkReferences(tx: ReadTx, spec: ServiceSpec): void {
  const c = spec.TaskTemplate.ContainerSpec;
  const missingSecrets = (c?.Secrets ?? [])
    .filter((s) => !tx.get('secret', s.SecretID))
    .map((s) => s.SecretName);
  if (missingSecrets.length) throw new InvalidArgument(`secret not found: ${missingSecrets.join(', ')}`);
  const missingConfigs = (c?.Configs ?? [])
    .filter((s) => !tx.get('config', s.ConfigID))
    .map((s) => s.ConfigName);
  if (missingConfigs.length) throw new InvalidArgument(`config not found: ${missingConfigs.join(', ')}`);
  for (const n of [...(spec.TaskTemplate.Networks ?? []), ...(spec.Networks ?? [])]) {
    const net = tx.get('network', n.Target) ?? tx.find('network', 'name', n.Target)[0];
    if (!net) throw new NotFound(`network ${n.Target} not found`);
    n.Target = net.ID;
  }
}

const portKey = (p: PortConfig): string => `${p.Protocol ?? 'tcp'}/${p.PublishedPort}`;

/**
 * swarmkit's endpoint checks at the API: dnsrr services cannot publish through the routing mesh, and an explicit
 * published port must be free of other services' routing-mesh ports (which every node binds), as the spec and the
 * allocated Endpoint of each record them. A host-mode port only clashes with another service's ingress port:
 * several services may publish the same host port, the scheduler keeps them on different nodes.
 */
function checkEndpoint(tx: ReadTx, id: string, spec: ServiceSpec): void {
  const e = spec.EndpointSpec;
  const ports = e?.Ports ?? [];
  if (e?.Mode === 'dnsrr' && ports.some(isIngress))
    throw new InvalidArgument("EndpointSpec: port published with ingress mode can't be used with dnsrr mode");
  const wanted = ports.filter((p) => p.PublishedPort);
  if (!wanted.length) return;
  for (const other of tx.all('service')) {
    if (other.ID === id) continue;
    const held = [...(other.Spec.EndpointSpec?.Ports ?? []), ...(other.Endpoint?.Ports ?? [])].filter(
      (p) => p.PublishedPort,
    );
    const owner = { id: other.ID, name: other.Spec.Name };
    for (const p of wanted) {
      const clash = held.filter((h) => portKey(h) === portKey(p));
      if (clash.some(isIngress)) throw new InvalidArgument(portInUseMessage(p.PublishedPort!, owner));
      if (isIngress(p) && clash.length)
        throw new InvalidArgument(
          `port '${p.PublishedPort}' is already in use by service '${owner.name}' (${owner.id}) as a host-published port`,
        );
    }
  }
}

/** Running/desired/completed counts, as `GET /services?status=true` reports them. */
export function serviceStatus(
  tx: ReadTx,
  service: Service,
  readyNodes: number,
): NonNullable<Service['ServiceStatus']> {
  const count = (test: (t: Readonly<Task>) => boolean) => tx.count('task', 'service', service.ID, test);
  const running = count((t) => t.Status.State === 'running' && t.DesiredState === 'running');
  const completed = count((t) => t.Status.State === 'complete');
  const m = service.Spec.Mode ?? {};
  let desired: number;
  if (m.Replicated) desired = m.Replicated.Replicas ?? 0;
  else if (m.ReplicatedJob)
    desired = Math.min(
      m.ReplicatedJob.MaxConcurrent ?? 1,
      Math.max(0, (m.ReplicatedJob.TotalCompletions ?? 0) - completed),
    );
  else desired = count((t) => t.DesiredState === 'running' || t.DesiredState === 'complete') || readyNodes;
  return { RunningTasks: running, DesiredTasks: desired, CompletedTasks: completed };
}

export function serviceRoutes(store: StoreSource) {
  return (app: FastifyInstance): void => {
    app.post('/services/create', async (req, reply) => {
      const spec = canonicalServiceSpec(requireBody<ServiceSpec>(req.body, 'service spec'));
      validateServiceSpec(spec);
      parseConstraints(spec.TaskTemplate.Placement?.Constraints ?? []);
      const filled = withServiceDefaults(spec);
      const id = newId();
      await store().update((tx) => {
        checkReferences(tx, filled);
        checkEndpoint(tx, id, filled);
        const service: Service = {
          ID: id,
          Version: { Index: 0 },
          CreatedAt: '',
          UpdatedAt: '',
          Spec: filled,
          Endpoint: { Spec: filled.EndpointSpec ?? { Mode: 'vip' } },
        };
        if (filled.Mode?.ReplicatedJob || filled.Mode?.GlobalJob)
          service.JobStatus = { JobIteration: { Index: 0 } };
        tx.create('service', service);
      });
      void reply.code(201);
      return { ID: id };
    });

    app.get('/services', async (req) => {
      const q = req.query as { filters?: string; status?: string };
      const f = parseFilters(q.filters, ['id', 'label', 'mode', 'name']);
      return store().view((tx) => {
        const readyNodes = tx
          .all('node')
          .filter((n) => n.Status.State === 'ready' && n.Spec.Availability === 'active').length;
        return tx
          .all('service')
          .filter(
            (s) =>
              matchPrefix(f, 'id', s.ID) &&
              matchNamePrefix(f, 'name', s.Spec.Name) &&
              matchLabels(f, 'label', s.Spec.Labels) &&
              matchExact(f, 'mode', modeOf(s.Spec)),
          )
          .sort((a, b) => a.Spec.Name.localeCompare(b.Spec.Name))
          .map((s) =>
            q.status === 'true' || q.status === '1'
              ? { ...s, ServiceStatus: serviceStatus(tx, s, readyNodes) }
              : s,
          );
      });
    });

    app.get('/services/:id', async (req) => {
      const { id } = req.params as { id: string };
      return store().view((tx) => lookup(tx, 'service', id));
    });

    app.post('/services/:id/update', async (req) => {
      const { id } = req.params as { id: string };
      const q = req.query as { version?: string; rollback?: string };
      const version = parseVersion(q.version);
      const body = canonicalServiceSpec(requireBody<ServiceSpec>(req.body, 'service spec'));
      const rollback = q.rollback === 'previous';
      if (!rollback) {
        validateServiceSpec(body);
        parseConstraints(body.TaskTemplate.Placement?.Constraints ?? []);
      }
      await store().update((tx) => {
        const current = lookup(tx, 'service', id);
        if (current.Version.Index !== version) throw new Conflict('update out of sequence');
        let next: ServiceSpec;
        if (rollback) {
          if (!current.PreviousSpec)
            throw new FailedPrecondition(`service ${current.Spec.Name} does not have a previous spec`);
          next = current.PreviousSpec;
        } else {
          next = withServiceDefaults(body);
          checkReferences(tx, next);
        }
        checkEndpoint(tx, current.ID, next);
        if (next.Name !== current.Spec.Name) throw new InvalidArgument('renaming services is not supported');
        if (modeOf(next) !== modeOf(current.Spec))
          throw new InvalidArgument('service mode change is not allowed');
        current.PreviousSpec = current.Spec;
        current.Spec = next;
        current.Endpoint = { ...current.Endpoint, Spec: next.EndpointSpec ?? { Mode: 'vip' } };
        // The update orchestrator sets UpdateStatus when it starts rolling the new spec out.
        if (rollback)
          current.UpdateStatus = {
            State: 'rollback_started',
            StartedAt: new Date().toISOString(),
            Message: 'manually requested rollback',
          };
        else delete current.UpdateStatus;
        tx.update('service', current);
      });
      return { Warnings: null };
    });

    app.delete('/services/:id', async (req, reply) => {
      const { id } = req.params as { id: string };
      await store().update((tx) => tx.delete('service', lookup(tx, 'service', id).ID));
      void reply.code(200);
      return '';
    });
  };
}
