// What the dispatcher tells a node about its tasks: the full set when a session opens, then only the changes
// the agent acts on (new tasks, desired-state changes, tasks gone). Status-only updates are not echoed back.
// The secrets and configs the node's tasks reference travel with them, and are taken back when no task there
// needs them any more (see dependencies.ts).
import { taskStateRank, type Config, type Secret, type Task } from '../../api/index.js';
import {
  dependenciesOf,
  dependencyChanges,
  NO_DEPENDENCIES,
  type DependencyIds,
  type DependencyLookup,
} from './dependencies.js';

export interface Assignments {
  /** True: `tasks`, `secrets` and `configs` are the node's whole set (anything else must go). False: changes. */
  full: boolean;
  tasks: Task[];
  /** IDs of tasks no longer assigned (deleted, or moved off the node). */
  removed: string[];
  /** Secrets (with their data) the node's tasks need: all of them when `full`, else the new ones. */
  secrets?: Secret[];
  configs?: Config[];
  /** IDs of secrets and configs no task on the node needs any more. */
  removedSecrets?: string[];
  removedConfigs?: string[];
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
  /** The node's assigned tasks as last seen (status changes included): what its dependencies follow from. */
  private readonly tasks = new Map<string, Task>();
  private sentDeps: DependencyIds = { secrets: new Set(), configs: new Set() };

  constructor(
    readonly nodeId: string,
    private readonly lookup: DependencyLookup = NO_DEPENDENCIES,
  ) {}

  full(tasks: Task[]): Assignments {
    this.sent.clear();
    this.tasks.clear();
    const mine = tasks.filter((t) => isAssignedTo(t, this.nodeId));
    for (const t of mine) {
      this.sent.set(t.ID, t.DesiredState);
      this.tasks.set(t.ID, t);
    }
    this.sentDeps = { secrets: new Set(), configs: new Set() };
    const deps = this.syncDependencies();
    return { full: true, tasks: mine, removed: [], secrets: deps.secrets, configs: deps.configs };
  }

  /** Changes among `changed` (current versions of tasks that changed; undefined = deleted) worth a push. */
  changes(changed: Map<string, Task | undefined>): Assignments | undefined {
    const out: Assignments = { full: false, tasks: [], removed: [] };
    for (const [id, t] of changed) {
      if (isAssignedTo(t, this.nodeId)) {
        this.tasks.set(id, t);
        if (this.sent.get(id) === t.DesiredState) continue;
        this.sent.set(id, t.DesiredState);
        out.tasks.push(t);
      } else {
        this.tasks.delete(id);
        if (this.sent.delete(id)) out.removed.push(id);
      }
    }
    const deps = this.syncDependencies();
    if (deps.secrets.length) out.secrets = deps.secrets;
    if (deps.configs.length) out.configs = deps.configs;
    if (deps.removedSecrets.length) out.removedSecrets = deps.removedSecrets;
    if (deps.removedConfigs.length) out.removedConfigs = deps.removedConfigs;
    const depsChanged =
      deps.secrets.length + deps.configs.length + deps.removedSecrets.length + deps.removedConfigs.length > 0;
    return out.tasks.length || out.removed.length || depsChanged ? out : undefined;
  }

  /** Brings what the node holds in line with what its tasks need; returns the difference to send. */
  private syncDependencies() {
    const wanted = dependenciesOf(this.tasks.values(), this.nodeId);
    const diff = dependencyChanges(this.sentDeps, wanted, this.lookup);
    for (const s of diff.secrets) this.sentDeps.secrets.add(s.ID);
    for (const c of diff.configs) this.sentDeps.configs.add(c.ID);
    for (const id of diff.removedSecrets) this.sentDeps.secrets.delete(id);
    for (const id of diff.removedConfigs) this.sentDeps.configs.delete(id);
    return diff;
  }
}
