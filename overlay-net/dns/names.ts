// The names a task's container resolves through the node's DNS server, from the network views. Pure.
import type { NetworkView } from '../../api/index.js';

/**
 * On each (non-ingress) network the container is on: a service's name and aliases → its VIP (vip mode) or its
 * running tasks' addresses (dnsrr), `tasks.<service>` → the running tasks' addresses, and each running task's
 * name (its container's name) → its address. Names are lower case, as the server matches them.
 */
export function dnsNames(
  views: readonly NetworkView[],
  networkIds: ReadonlySet<string>,
): Record<string, string[]> {
  const names = new Map<string, Set<string>>();
  const add = (name: string, ips: readonly string[]) => {
    const key = name.toLowerCase();
    let set = names.get(key);
    if (!set) names.set(key, (set = new Set()));
    for (const ip of ips) set.add(ip);
  };
  for (const v of views) {
    if (!networkIds.has(v.id) || v.ingress) continue;
    for (const s of v.services) {
      const taskIps = s.backends.map((b) => b.ip);
      const serviceIps = s.mode === 'vip' && s.vip ? [s.vip] : taskIps;
      for (const name of [s.name, ...s.aliases]) add(name, serviceIps);
      add(`tasks.${s.name}`, taskIps);
      for (const b of s.backends) add(b.name, [b.ip]);
    }
  }
  return Object.fromEntries([...names].map(([k, v]) => [k, [...v].sort()]));
}
