// Pure reconcile of a global service: exactly one runnable task per eligible node, none elsewhere.
import type { Node, Service, Task } from '../../api/index.js';
import type { ReconcileResult } from './replicated.js';
import { groupSlots } from './slots.js';
import { newTask } from './task-factory.js';

/** A node runs global tasks when it is ready and active (drained and paused nodes get none, as Swarm). */
export function eligibleForGlobal(node: Node, constraintsMatch: (n: Node) => boolean): boolean {
  return node.Status.State === 'ready' && node.Spec.Availability === 'active' && constraintsMatch(node);
}

export function reconcileGlobal(
  service: Service,
  tasks: Task[],
  nodes: Node[],
  constraintsMatch: (n: Node) => boolean,
  now: string,
): ReconcileResult {
  const slots = groupSlots(tasks.filter((t) => t.ServiceID === service.ID));
  const out: ReconcileResult = { create: [], update: [] };
  const byId = new Map(nodes.map((n) => [n.ID, n]));
  for (const n of nodes) {
    const slot = slots.get(`node:${n.ID}`);
    const eligible = eligibleForGlobal(n, constraintsMatch);
    // A paused node keeps what it runs; a drained or no-longer-matching node loses it.
    const keep =
      eligible || (n.Spec.Availability === 'pause' && n.Status.State === 'ready' && constraintsMatch(n));
    if (eligible && (!slot || slot.runnable.length === 0))
      out.create.push(newTask(service, { nodeId: n.ID }, now));
    if (!keep && slot) for (const t of slot.runnable) out.update.push({ ...t, DesiredState: 'shutdown' });
  }
  // Tasks on nodes that left the cluster.
  for (const slot of slots.values()) {
    for (const t of slot.runnable)
      if (t.NodeID && !byId.has(t.NodeID)) out.update.push({ ...t, DesiredState: 'remove' });
  }
  return out;
}
