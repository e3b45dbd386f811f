// /nodes routes: list, inspect, update (availability, role, labels), remove.
import type { FastifyInstance } from 'fastify';
import { Conflict, InvalidArgument, type NodeSpec } from '../../api/index.js';
import { matchExact, matchLabels, matchNamePrefix, matchPrefix, parseFilters } from './filters.js';
import { lookup, parseVersion, requireBody } from './lookup.js';
import type { StoreSource } from './store-source.js';
import type { ReadTx } from '../store/index.js';
import { canRemoveMember } from '../membership/plan.js';

/** Demoting `id` must leave a quorum of reachable managers (as the leader last recorded reachability). */
function demotionKeepsQuorum(tx: ReadTx, id: string): boolean {
  const managers = tx.find('node', 'role', 'manager').filter((n) => n.ManagerStatus);
  const reachable = new Set(
    managers.filter((n) => n.ManagerStatus?.Reachability === 'reachable').map((n) => n.ID),
  );
  return canRemoveMember(
    managers.map((n) => n.ID),
    reachable,
    id,
  );
}

export function nodeRoutes(store: StoreSource) {
  return (app: FastifyInstance): void => {
    app.get('/nodes', async (req) => {
      const f = parseFilters((req.query as { filters?: string }).filters, [
        'id',
        'label',
        'membership',
        'name',
        'node.label',
        'role',
      ]);
      return store().view((tx) =>
        tx
          .all('node')
          .filter(
            (n) =>
              matchPrefix(f, 'id', n.ID) &&
              matchNamePrefix(f, 'name', n.Description?.Hostname) &&
              matchExact(f, 'role', n.Spec.Role) &&
              matchExact(f, 'membership', 'accepted') &&
              matchLabels(f, 'label', n.Description?.Engine?.Labels) &&
              matchLabels(f, 'node.label', n.Spec.Labels),
          )
          .sort(
            (a, b) =>
              (a.Description?.Hostname ?? '').localeCompare(b.Description?.Hostname ?? '') ||
              a.ID.localeCompare(b.ID),
          ),
      );
    });

    app.get('/nodes/:id', async (req) =>
      store().view((tx) => lookup(tx, 'node', (req.params as { id: string }).id)),
    );

    app.post('/nodes/:id/update', async (req) => {
      const { id } = req.params as { id: string };
      const version = parseVersion((req.query as { version?: string }).version);
      const spec = requireBody<NodeSpec>(req.body, 'node spec');
      if (!['active', 'pause', 'drain'].includes(spec.Availability))
        throw new InvalidArgument(
          `invalid availability "${String(spec.Availability)}" (active, pause or drain)`,
        );
      if (!['worker', 'manager'].includes(spec.Role))
        throw new InvalidArgument(`invalid role "${String(spec.Role)}" (worker or manager)`);
      await store().update((tx) => {
        const node = lookup(tx, 'node', id);
        if (node.Version.Index !== version) throw new Conflict('update out of sequence');
        if (
          node.Spec.Role === 'manager' &&
          spec.Role === 'worker' &&
          tx.find('node', 'role', 'manager').length <= 1
        ) {
          throw new InvalidArgument('attempting to demote the last manager of the swarm');
        }
        if (node.Spec.Role === 'manager' && spec.Role === 'worker' && !demotionKeepsQuorum(tx, node.ID)) {
          throw new InvalidArgument(
            "can't remove member from the raft: this would result in a loss of quorum",
          );
        }
        node.Spec = { ...spec, Labels: spec.Labels ?? {} };
        tx.update('node', node);
      });
      return '';
    });

    app.delete('/nodes/:id', async (req) => {
      const { id } = req.params as { id: string };
      const force = ['1', 'true'].includes((req.query as { force?: string }).force ?? '');
      await store().update((tx) => {
        const node = lookup(tx, 'node', id);
        const down = node.Status.State === 'down' || node.Status.State === 'unknown';
        // Swarm insists on a demotion first; a down manager removed with --force leaves the Raft group at once
        // (the leader's role manager removes it), which is what an operator recovering from a dead host wants.
        if ((node.Spec.Role === 'manager' || node.ManagerStatus) && !(force && down)) {
          throw new InvalidArgument(
            `node ${node.ID} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`,
          );
        }
        if (!force && !down) {
          throw new InvalidArgument(`node ${node.ID} is not down and can't be removed`);
        }
        tx.delete('node', node.ID);
        // Its certificate is refused from now on, on every manager.
        const cluster = tx.all('cluster')[0];
        if (cluster) {
          cluster.RemovedNodes = [...(cluster.RemovedNodes ?? []), node.ID];
          tx.update('cluster', cluster);
        }
      });
      return '';
    });
  };
}
