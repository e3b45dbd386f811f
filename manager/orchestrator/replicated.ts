// Pure reconcile of a replicated service: create tasks for missing slots, remove surplus slots by priority.
import type { Node, Service, Task } from '../../api/index.js';
import { newTask } from './task-factory.js';
import { groupSlots, type Slot } from './slots.js';

export interface ReconcileResult {
  create: Task[];
  /** Tasks whose DesiredState changes (already set on the returned copies). */
  update: Task[];
}

function nodeIsUp(nodes: Map<string, Node>, id: string | undefined): boolean {
  const n = id ? nodes.get(id) : undefined;
  return !!n && n.Status.State === 'ready' && n.Spec.Availability !== 'drain';
}

/**
 * Picks `count` surplus slots to remove, one at a time (swarmkit's priorities): slots on unavailable nodes first,
 * then slots whose task is not running, then a slot on the node currently running most of this service, then
 * the highest slot number. Counts per node are updated after each pick so removal evens out the spread.
 */
function pickSurplus(slots: Slot[], nodes: Map<string, Node>, count: number): Slot[] {
  const perNode = new Map<string, number>();
  for (const s of slots)
    for (const t of s.runnable) perNode.set(t.NodeID ?? '', (perNode.get(t.NodeID ?? '') ?? 0) + 1);
  const score = (s: Slot): number[] => {
    const t = s.runnable[0]!;
    return [
      nodeIsUp(nodes, t.NodeID) ? 1 : 0,
      t.Status.State === 'running' ? 1 : 0,
      -(perNode.get(t.NodeID ?? '') ?? 0),
      -(t.Slot ?? 0),
    ];
  };
  const left = [...slots];
  const picked: Slot[] = [];
  while (picked.length < count && left.length > 0) {
    let best = 0;
    for (let i = 1; i < left.length; i++) {
      const a = score(left[i]!);
      const b = score(left[best]!);
      const d = a.findIndex((v, k) => v !== b[k]);
      if (d >= 0 && a[d]! < b[d]!) best = i;
    }
    const [slot] = left.splice(best, 1);
    picked.push(slot!);
    for (const t of slot!.runnable) perNode.set(t.NodeID ?? '', (perNode.get(t.NodeID ?? '') ?? 1) - 1);
  }
  return picked;
}

export function reconcileReplicated(
  service: Service,
  tasks: Task[],
  nodes: Map<string, Node>,
  now: string,
): ReconcileResult {
  const want = service.Spec.Mode?.Replicated?.Replicas ?? 0;
  const slots = groupSlots(tasks.filter((t) => t.ServiceID === service.ID));
  const active = [...slots.values()].filter((s) => s.runnable.length > 0);
  const out: ReconcileResult = { create: [], update: [] };
  // A slot with several runnable tasks (e.g. a start-first update in flight) still counts once.
  if (active.length < want) {
    const used = new Set(active.map((s) => s.runnable[0]!.Slot));
    let next = 1;
    for (let i = active.length; i < want; i++) {
      while (used.has(next)) next++;
      used.add(next);
      out.create.push(newTask(service, { slot: next }, now));
    }
  } else if (active.length > want) {
    for (const slot of pickSurplus(active, nodes, active.length - want)) {
      for (const t of slot.runnable) out.update.push({ ...t, DesiredState: 'remove' });
    }
  }
  return out;
}
