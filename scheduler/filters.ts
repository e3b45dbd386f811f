// The filter pipeline in Swarm's order, with Swarm's explanations of why nodes were rejected.
import type { Platform } from '../api/index.js';
import { nodeMatches, type Constraint } from './constraints.js';
import type { NodeInfo, Reservation } from './node-info.js';

/** What the filters need to know about a group of identical tasks. */
export interface TaskGroupContext {
  serviceId: string;
  reservation: Reservation;
  constraints: Constraint[];
  platforms: Platform[];
  maxReplicas: number;
}

export interface Filter {
  /** Evaluated once per node per group (true) or again after every placement on the node (false). */
  readonly staticCheck: boolean;
  enabled(g: TaskGroupContext): boolean;
  check(n: NodeInfo, g: TaskGroupContext): boolean;
  explain(nodes: number): string;
}

const plural = (n: number, one: string, many: (n: number) => string): string => (n === 1 ? one : many(n));

const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', armhf: 'arm', i386: '386' };
const normArch = (a: string | undefined): string => {
  const l = (a ?? '').toLowerCase();
  return ARCH_ALIASES[l] ?? l;
};

export const FILTERS: readonly Filter[] = [
  {
    // Ready: the node is up and its availability is active.
    staticCheck: true,
    enabled: () => true,
    check: (n) => n.ready,
    explain: (k) =>
      plural(k, '1 node not available for new tasks', (k) => `${k} nodes not available for new tasks`),
  },
  {
    // Resources: CPU, memory and generic resource reservations fit what is still free.
    staticCheck: false,
    enabled: (g) =>
      g.reservation.nanoCPUs > 0 || g.reservation.memoryBytes > 0 || g.reservation.generic.size > 0,
    check: (n, g) => n.fits(g.reservation),
    explain: (k) =>
      plural(k, 'insufficient resources on 1 node', (k) => `insufficient resources on ${k} nodes`),
  },
  {
    // Plugins: tsswarm has no volume or network plugins yet, so every node offers what a task can ask for.
    // Replace this check when plugin-backed volume drivers exist.
    staticCheck: true,
    enabled: () => false,
    check: () => true,
    explain: (k) => plural(k, 'missing plugin on 1 node', (k) => `missing plugin on ${k} nodes`),
  },
  {
    staticCheck: true,
    enabled: (g) => g.constraints.length > 0,
    check: (n, g) => nodeMatches(g.constraints, n.node),
    explain: (k) =>
      plural(
        k,
        'scheduling constraints not satisfied on 1 node',
        (k) => `scheduling constraints not satisfied on ${k} nodes`,
      ),
  },
  {
    staticCheck: true,
    enabled: (g) => g.platforms.length > 0,
    check: (n, g) => {
      const p = n.node.Description?.Platform ?? {};
      return g.platforms.some(
        (want) =>
          (!want.OS || want.OS.toLowerCase() === (p.OS ?? '').toLowerCase()) &&
          (!want.Architecture || normArch(want.Architecture) === normArch(p.Architecture)),
      );
    },
    explain: (k) => plural(k, 'unsupported platform on 1 node', (k) => `unsupported platform on ${k} nodes`),
  },
  {
    staticCheck: false,
    enabled: (g) => g.reservation.hostPorts.length > 0,
    check: (n, g) => g.reservation.hostPorts.every((p) => !n.hostPorts.has(p)),
    explain: (k) =>
      plural(
        k,
        'host-mode port already in use on 1 node',
        (k) => `host-mode port already in use on ${k} nodes`,
      ),
  },
  {
    staticCheck: false,
    enabled: (g) => g.maxReplicas > 0,
    check: (n, g) => n.serviceCount(g.serviceId) < g.maxReplicas,
    explain: () => 'max replicas per node limit exceed',
  },
];

/** The filters that apply to a group, split by when they must be evaluated. */
export function pipelineFor(g: TaskGroupContext): { staticFilters: Filter[]; dynamicFilters: Filter[] } {
  const on = FILTERS.filter((f) => f.enabled(g));
  return { staticFilters: on.filter((f) => f.staticCheck), dynamicFilters: on.filter((f) => !f.staticCheck) };
}

/**
 * Swarm's explanation of why a group could not be (fully) placed: for each node the first filter (in order)
 * that rejects it is counted, and the counts are listed from most to fewest nodes.
 */
export function explain(nodes: Iterable<NodeInfo>, g: TaskGroupContext): string {
  const on = FILTERS.filter((f) => f.enabled(g));
  const counts = new Map<Filter, number>();
  for (const n of nodes) {
    const failed = on.find((f) => !f.check(n, g));
    if (failed) counts.set(failed, (counts.get(failed) ?? 0) + 1);
  }
  const ordered = on.filter((f) => counts.has(f)).sort((a, b) => counts.get(b)! - counts.get(a)!);
  const text = ordered.map((f) => f.explain(counts.get(f)!)).join('; ');
  return text ? `no suitable node (${text})` : 'no suitable node';
}
