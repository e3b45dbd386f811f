// Which secrets and configs a node is given: those referenced by the tasks assigned to it that may still run
// (ASSIGNED up to RUNNING), as swarmkit's assignment set counts task dependencies. A task that reached a
// terminal state or left the node releases them. Pure.
import { taskStateRank, type Config, type Secret, type Task } from '../../api/index.js';

export interface DependencyIds {
  secrets: Set<string>;
  configs: Set<string>;
}

/** Whether a task assigned to a node holds its secrets and configs there: not yet past RUNNING. */
export function holdsDependencies(t: Task): boolean {
  const rank = taskStateRank(t.Status.State);
  return rank >= taskStateRank('assigned') && rank <= taskStateRank('running');
}

/** The IDs of the secrets and configs the node `nodeId` needs for `tasks` (tasks of other nodes are ignored). */
export function dependenciesOf(tasks: Iterable<Task>, nodeId: string): DependencyIds {
  const out: DependencyIds = { secrets: new Set(), configs: new Set() };
  for (const t of tasks) {
    if (t.NodeID !== nodeId || !holdsDependencies(t)) continue;
    const c = t.Spec.ContainerSpec;
    for (const s of c?.Secrets ?? []) if (s.SecretID) out.secrets.add(s.SecretID);
    for (const s of c?.Configs ?? []) if (s.ConfigID) out.configs.add(s.ConfigID);
  }
  return out;
}

/** Looks a secret or config up by ID (the store's current view); undefined when it is gone. */
export interface DependencyLookup {
  secret(id: string): Secret | undefined;
  config(id: string): Config | undefined;
}

export const NO_DEPENDENCIES: DependencyLookup = { secret: () => undefined, config: () => undefined };

/** What to send so that a node holding `sent` holds `wanted`: objects to add (looked up) and IDs to drop. */
export function dependencyChanges(
  sent: DependencyIds,
  wanted: DependencyIds,
  lookup: DependencyLookup,
): { secrets: Secret[]; configs: Config[]; removedSecrets: string[]; removedConfigs: string[] } {
  const add = <T>(kind: Set<string>, have: Set<string>, get: (id: string) => T | undefined): T[] =>
    [...kind].filter((id) => !have.has(id)).flatMap((id) => get(id) ?? []);
  return {
    secrets: add(wanted.secrets, sent.secrets, (id) => lookup.secret(id)),
    configs: add(wanted.configs, sent.configs, (id) => lookup.config(id)),
    removedSecrets: [...sent.secrets].filter((id) => !wanted.secrets.has(id)),
    removedConfigs: [...sent.configs].filter((id) => !wanted.configs.has(id)),
  };
}
