// Node identities carried in certificates: CN = node ID, OU = role, O = cluster ID.

export type NodeRole = 'swarm-manager' | 'swarm-worker';
export const MANAGER_ROLE: NodeRole = 'swarm-manager';
export const WORKER_ROLE: NodeRole = 'swarm-worker';

export interface NodeIdentity {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
}

export function roleFromOU(ou: string | undefined): NodeRole | undefined {
  return ou === MANAGER_ROLE || ou === WORKER_ROLE ? ou : undefined;
}

/** Reads one attribute ("CN", "OU", "O") from a distinguished name string such as "CN=x, OU=y, O=z". */
export function dnAttribute(dn: string, attr: string): string | undefined {
  for (const part of dn.split(/,\s*/)) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim().toUpperCase() === attr) return part.slice(eq + 1).trim();
  }
  return undefined;
}
