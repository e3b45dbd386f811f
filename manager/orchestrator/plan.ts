// One orchestration pass as a pure function: from services, tasks and nodes to the task changes to write.
// Order per service: restarts (finished tasks, tasks on down nodes), then scale (replicated/global), then the
// rolling update, each step seeing the previous steps' changes.
import { isTerminal, taskStateRank, type Node, type Service, type Task } from '../../api/index.js';
import { nodeMatches, parseConstraints } from '../../scheduler/index.js';
import { reconcileGlobal } from './global.js';
import { reconcileGlobalJob, reconcileReplicatedJob } from './jobs.js';
import { tasksToReap } from './reaper.js';
import { reconcileReplicated } from './replicated.js';
import { needsSupervision, restartDecision } from './restart.js';
import { groupSlots, slotKey } from './slots.js';
import { newTask } from './task-factory.js';
import { updateStep } from './update.js';

export interface OrchestrationPlan {
  create: Task[];
  /** Tasks whose DesiredState changes (the only field the orchestrator changes on existing tasks). */
  desired: Task[];
  delete: string[];
  /** Services whose UpdateStatus (and, on rollback, Spec/PreviousSpec) change. */
  services: Service[];
  /** Run again after this long even if nothing changes (restart delays, update monitor periods). */
  wakeInMs?: number;
}

const onNode = (t: Task) => taskStateRank(t.Status.State) >= taskStateRank('assigned');

export function planOrchestration(
  services: Service[],
  tasks: Task[],
  nodes: Node[],
  historyLimit: number,
  nowMs: number,
): OrchestrationPlan {
  const now = new Date(nowMs).toISOString();
  const plan: OrchestrationPlan = { create: [], desired: [], delete: [], services: [] };
  const wake = (ms: number) => (plan.wakeInMs = Math.min(plan.wakeInMs ?? Infinity, Math.max(10, ms)));
  const nodeById = new Map(nodes.map((n) => [n.ID, n]));
  const byService = new Map<string, Task[]>();
  for (const t of tasks) {
    const list = byService.get(t.ServiceID);
    if (list) list.push(t);
    else byService.set(t.ServiceID, [t]);
  }

  for (const service of services) {
    const mode = service.Spec.Mode ?? {};
    let mine = byService.get(service.ID) ?? [];
    const apply = (create: Task[], desired: Task[]) => {
      plan.create.push(...create);
      plan.desired.push(...desired);
      const changed = new Map(desired.map((t) => [t.ID, t]));
      mine = [...mine.map((t) => changed.get(t.ID) ?? t), ...create];
    };

    // Restarts: tasks that stopped while meant to run, and replicated tasks that must leave their node (it went
    // down, was drained, or no longer satisfies the placement constraints: swarmkit's constraint enforcer).
    const constraints = parseConstraints(service.Spec.TaskTemplate.Placement?.Constraints ?? []);
    const mustMove = (node: Node | undefined) =>
      !node ||
      node.Status.State === 'down' ||
      node.Spec.Availability === 'drain' ||
      !nodeMatches(constraints, node);
    const slots = groupSlots(mine);
    const restartCreate: Task[] = [];
    const restartDesired: Task[] = [];
    for (const t of mine) {
      if (t.DesiredState !== 'running') continue;
      const node = t.NodeID ? nodeById.get(t.NodeID) : undefined;
      const nodeDown = !!mode.Replicated && onNode(t) && !isTerminal(t.Status.State) && mustMove(node);
      if (!nodeDown && !needsSupervision(t)) continue;
      const history = slots.get(slotKey(t))?.history ?? [];
      const d = restartDecision(service, t, history, nowMs, nodeDown);
      if (!d.restart) continue;
      const due = Date.parse(t.Status.Timestamp) + d.delayMs;
      if (due > nowMs) {
        wake(due - nowMs);
        continue;
      }
      restartDesired.push({ ...t, DesiredState: 'shutdown' });
      restartCreate.push(newTask(service, mode.Replicated ? { slot: t.Slot } : { nodeId: t.NodeID }, now));
    }
    apply(restartCreate, restartDesired);

    // Scale (or run the job's next tasks).
    const matches = (n: Node) => nodeMatches(constraints, n);
    const scaled = mode.Replicated
      ? reconcileReplicated(service, mine, nodeById, now)
      : mode.Global
        ? reconcileGlobal(service, mine, nodes, matches, now)
        : mode.ReplicatedJob
          ? reconcileReplicatedJob(service, mine, now)
          : mode.GlobalJob
            ? reconcileGlobalJob(service, mine, nodes, matches, now)
            : { create: [], update: [] };
    apply(scaled.create, scaled.update);
    if (restartCreate.length || scaled.create.length || scaled.update.length) continue;

    // Rolling update / rollback, once the service is otherwise settled.
    const step = updateStep(service, mine, nowMs);
    apply(step.create, step.update);
    if (step.wakeInMs !== undefined) wake(step.wakeInMs);
    if (step.status || step.rollback) {
      const next: Service = { ...service, UpdateStatus: step.status ?? service.UpdateStatus };
      if (step.rollback && service.PreviousSpec) {
        next.Spec = service.PreviousSpec;
        next.PreviousSpec = service.Spec;
      }
      plan.services.push(next);
    }
  }

  // Tasks of removed services: never-placed ones go at once, the others are stopped and removed.
  const live = new Set(services.map((s) => s.ID));
  for (const t of tasks) {
    if (live.has(t.ServiceID)) continue;
    if (!onNode(t)) plan.delete.push(t.ID);
    else if (t.DesiredState !== 'remove') plan.desired.push({ ...t, DesiredState: 'remove' });
  }
  // Tasks stopped before they were ever placed (scale-down, restart of a pending task) have nothing to clean up;
  // tasks to remove on a node that is down or gone cannot report their end (swarmkit's reaper drops them too).
  for (const t of tasks) {
    const down = !!t.NodeID && nodeById.get(t.NodeID)?.Status.State !== 'ready';
    if (live.has(t.ServiceID) && !onNode(t) && taskStateRank(t.DesiredState) > taskStateRank('running'))
      plan.delete.push(t.ID);
    else if (t.DesiredState === 'remove' && onNode(t) && down) plan.delete.push(t.ID);
  }
  const deleting = new Set(plan.delete);
  for (const t of tasksToReap(tasks, historyLimit)) if (!deleting.has(t.ID)) plan.delete.push(t.ID);
  return plan;
}
