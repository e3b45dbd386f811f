// Pure reconcile of jobs (swarmkit's job orchestrators). A replicated job runs TotalCompletions successful tasks,
// at most MaxConcurrent at a time, one slot per completion; a global job runs one task to completion on every
// eligible node. Only tasks of the service's current JobIteration count; failed tasks are retried through the
// restart policy (in the slot's own history), never by creating extra tasks here.
import type { Node, Service, Task } from '../../api/index.js';
import { eligibleForGlobal } from './global.js';
import type { ReconcileResult } from './replicated.js';
import { groupSlots } from './slots.js';
import { newTask } from './task-factory.js';

const succeeded = (t: Task) =>
  t.Status.State === 'complete' && (t.Status.ContainerStatus?.ExitCode ?? 0) === 0;

function ofIteration(service: Service, tasks: Task[]): Task[] {
  const it = service.JobStatus?.JobIteration.Index ?? 0;
  return tasks.filter((t) => t.ServiceID === service.ID && (t.JobIteration?.Index ?? 0) === it);
}

export function reconcileReplicatedJob(service: Service, tasks: Task[], now: string): ReconcileResult {
  const job = service.Spec.Mode?.ReplicatedJob ?? {};
  const total = job.TotalCompletions ?? job.MaxConcurrent ?? 1;
  const maxConcurrent = job.MaxConcurrent ?? 1;
  const slots = groupSlots(ofIteration(service, tasks));
  const out: ReconcileResult = { create: [], update: [] };
  let busy = 0;
  const open: number[] = [];
  for (let slot = 1; slot <= total; slot++) {
    const s = slots.get(`slot:${slot}`);
    const all = [...(s?.runnable ?? []), ...(s?.history ?? [])];
    if (all.some(succeeded)) continue;
    // Desired RUNNING and not yet a success: running, or waiting for the restart supervisor.
    if (s && s.runnable.length > 0) busy++;
    else open.push(slot);
  }
  for (const slot of open) {
    if (busy >= maxConcurrent) break;
    out.create.push(newTask(service, { slot }, now));
    busy++;
  }
  return out;
}

export function reconcileGlobalJob(
  service: Service,
  tasks: Task[],
  nodes: Node[],
  constraintsMatch: (n: Node) => boolean,
  now: string,
): ReconcileResult {
  const slots = groupSlots(ofIteration(service, tasks));
  const out: ReconcileResult = { create: [], update: [] };
  for (const n of nodes) {
    if (!eligibleForGlobal(n, constraintsMatch)) continue;
    if (!slots.has(`node:${n.ID}`)) out.create.push(newTask(service, { nodeId: n.ID }, now));
  }
  return out;
}
