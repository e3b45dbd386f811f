// What the manager's cluster gauges report, counted in one pass over this replica's store (no copies made).
import { TASK_STATES, type NodeState, type TaskState } from '../../api/index.js';
import type { MemoryStore } from '../store/index.js';

/** Docker's node states, all reported (zero-filled) so absent series never hide a zero. */
export const NODE_STATES: readonly NodeState[] = ['unknown', 'down', 'ready', 'disconnected'];

/** The label value that stands for every service beyond the per-service limit. */
export const OTHER_SERVICES = '_other';

export interface ClusterCounts {
  nodes: Record<NodeState, number>;
  tasks: Record<TaskState, number>;
  services: number;
  networks: number;
  secrets: number;
  configs: number;
  /** Tasks per service label (a service's name, or `_other`) and state; only non-zero states are present. */
  tasksByService: Map<string, Map<TaskState, number>>;
}

function zeros<S extends string>(keys: readonly S[]): Record<S, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<S, number>;
}

/**
 * Counts nodes by state, tasks by state and by service, and the other kinds. At most `maxServices` services keep
 * their own label (those with the most tasks; ties by name); the tasks of the rest are counted under `_other`.
 */
export function countClusterObjects(store: MemoryStore, maxServices: number): ClusterCounts {
  const nodes = zeros(NODE_STATES);
  store.scan('node', (n) => {
    const s = n.Status?.State ?? 'unknown';
    nodes[s] = (nodes[s] ?? 0) + 1;
  });
  const names = new Map<string, string>();
  let services = 0;
  store.scan('service', (s) => {
    services++;
    names.set(s.ID, s.Spec.Name ?? s.ID);
  });
  const tasks = zeros(TASK_STATES);
  const perService = new Map<string, { total: number; states: Map<TaskState, number> }>();
  store.scan('task', (t) => {
    const state = t.Status.State;
    tasks[state]++;
    const label = names.get(t.ServiceID) ?? t.ServiceID;
    let entry = perService.get(label);
    if (!entry) perService.set(label, (entry = { total: 0, states: new Map() }));
    entry.total++;
    entry.states.set(state, (entry.states.get(state) ?? 0) + 1);
  });
  const ranked = [...perService.entries()].sort(([a, x], [b, y]) => y.total - x.total || (a < b ? -1 : 1));
  const tasksByService = new Map<string, Map<TaskState, number>>();
  ranked.forEach(([label, { states }], i) => {
    const key = i < maxServices && label !== OTHER_SERVICES ? label : OTHER_SERVICES;
    let into = tasksByService.get(key);
    if (!into) tasksByService.set(key, (into = new Map()));
    for (const [state, n] of states) into.set(state, (into.get(state) ?? 0) + n);
  });
  let networks = 0;
  let secrets = 0;
  let configs = 0;
  store.scan('network', () => networks++);
  store.scan('secret', () => secrets++);
  store.scan('config', () => configs++);
  return { nodes, tasks, services, networks, secrets, configs, tasksByService };
}
