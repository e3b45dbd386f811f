// /tasks routes: list with the filters the docker CLI sends, and inspect.
import type { FastifyInstance } from 'fastify';
import { isUpToDate as taskIsUpToDate } from '../orchestrator/index.js';
import type { Service, Task } from '../../api/index.js';
import type { ReadTx } from '../store/index.js';
import type { StoreSource } from './store-source.js';
import { matchExact, matchLabels, matchPrefix, parseFilters, type Filters } from './filters.js';
import { lookup } from './lookup.js';

const TASK_FILTERS = [
  'id',
  'name',
  'service',
  'node',
  'label',
  'desired-state',
  '_up-to-date',
  'runtime',
] as const;

/** Display name as the docker CLI builds it: service.slot (replicated) or service.node (global). */
export function taskName(service: Service | undefined, t: Task): string {
  const name = service?.Spec.Name ?? t.ServiceID;
  return t.Slot !== undefined ? `${name}.${t.Slot}` : `${name}.${t.NodeID ?? ''}`;
}

/** A task runs the service's current spec (swarmkit's "not dirty"). */
export function isUpToDate(service: Service | undefined, t: Task): boolean {
  return !!service && taskIsUpToDate(service, t);
}

function resolveIds(tx: ReadTx, f: Filters, key: 'service' | 'node'): Set<string> | undefined {
  const refs = f.get(key);
  if (!refs?.length) return undefined;
  return new Set(refs.map((r) => lookup(tx, key, r).ID));
}

export function taskRoutes(store: StoreSource) {
  return (app: FastifyInstance): void => {
    app.get('/tasks', async (req) => {
      const q = req.query as { filters?: string };
      const f = parseFilters(q.filters, TASK_FILTERS);
      return store().view((tx) => {
        const services = resolveIds(tx, f, 'service');
        const nodes = resolveIds(tx, f, 'node');
        const upToDate = f.get('_up-to-date')?.includes('true');
        // Many tasks share a service: read each once (every read is a copy).
        const servicesById = new Map<string, Service | undefined>();
        const serviceOf = (id: string) => {
          if (!servicesById.has(id)) servicesById.set(id, tx.get('service', id));
          return servicesById.get(id);
        };
        const candidates = services
          ? [...services].flatMap((id) => tx.find('task', 'service', id))
          : tx.all('task');
        return candidates
          .filter((t) => {
            const service = serviceOf(t.ServiceID);
            if (nodes && !nodes.has(t.NodeID ?? '')) return false;
            if (upToDate && !isUpToDate(service, t)) return false;
            return (
              matchPrefix(f, 'id', t.ID) &&
              matchExact(f, 'desired-state', t.DesiredState) &&
              matchLabels(f, 'label', t.Labels) &&
              (!f.get('name')?.length || f.get('name')!.some((n) => taskName(service, t).startsWith(n)))
            );
          })
          .sort((a, b) => (a.Slot ?? 0) - (b.Slot ?? 0) || b.Version.Index - a.Version.Index);
      });
    });

    app.get('/tasks/:id', async (req) => {
      const { id } = req.params as { id: string };
      return store().view((tx) => lookup(tx, 'task', id));
    });
  };
}
