// What the dispatcher tells a node about its tasks: the full set when a session opens, then only the changes
// the agent acts on (new tasks, desired-state changes, tasks gone). Status-only updates are not echoed back.
import { taskStateRank, type Task } from '../../api/index.js';

export interface Assignments {
  /** True: `tasks` is the node's whole set (anything else it runs must go). False: changes since the last push. */
  full: boolean;
  tasks: Task[];
  /** IDs of tasks no longer assigned (deleted, or moved off the node). */
  removed: string[];
}

/** A task the node must know about: placed on it, at ASSIGNED or later (history included, until reaped). */
export function isAssignedTo(t: Task | undefined, nodeId: string): t is Task {
  return !!t && t.NodeID === nodeId && taskStateRank(t.Status.State) >= taskStateRank('assigned');
}

/** The label the worker names containers by (`<service>.<slot>.<task>`), as swarmkit's ServiceAnnotations. */
export const SERVICE_NAME_LABEL = 'com.docker.swarm.service.name';

/** A copy of `t` as a node receives it: with its service's name among its labels. */
export function forNode(t: Task, serviceName: string | undefined): Task {
  return serviceName ? { ...t, Labels: { ...t.Labels, [SERVICE_NAME_LABEL]: serviceName } } : t;
}

/** Per session: what the node was last told, to send only what changed. */
export class AssignmentTracker {
  private readonly sent = new Map<string, string>();

  constructor(readonly nodeId: string) {}

  full(tasks: Task[]): Assignments {
    this.sent.clear();
    const mine = tasks.filter((t) => isAssignedTo(t, this.nodeId));
    for (const t of mine) this.sent.set(t.ID, t.DesiredState);
    return { full: true, tasks: mine, removed: [] };
  }

  /** Changes among `changed` (current versions of tasks that changed; undefined = deleted) worth a push. */
  changes(changed: Map<string, Task | undefined>): Assignments | undefined {
    const out: Assignments = { full: false, tasks: [], removed: [] };
    for (const [id, t] of changed) {
      if (isAssignedTo(t, this.nodeId)) {
        if (this.sent.get(id) === t.DesiredState) continue;
        this.sent.set(id, t.DesiredState);
        out.tasks.push(t);
      } else if (this.sent.delete(id)) out.removed.push(id);
    }
    return out.tasks.length || out.removed.length ? out : undefined;
  }
}
