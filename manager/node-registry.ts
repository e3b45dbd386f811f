// The CA's view of cluster membership, kept in the replicated store.
import type { Availability, NodeRegistry, NodeRole } from '../pki/index.js';
import { selfNodeObject } from './cluster-objects.js';
import type { MemoryStore } from './store/index.js';

export class StoreNodeRegistry implements NodeRegistry {
  private certs = new Map<string, string>();

  constructor(private readonly store: MemoryStore) {}

  /** Removed nodes are listed in the cluster object (a replica still catching up knows none yet). */
  isRemoved(nodeId: string): boolean {
    return this.store.view((tx) => tx.all('cluster')[0]?.RemovedNodes?.includes(nodeId) ?? false);
  }

  roleOf(nodeId: string): NodeRole | undefined {
    const n = this.store.view((tx) => tx.get('node', nodeId));
    return n ? (n.Spec.Role === 'manager' ? 'swarm-manager' : 'swarm-worker') : undefined;
  }

  async register(r: {
    nodeId: string;
    role: NodeRole;
    availability: Availability;
    certPem: string;
  }): Promise<void> {
    this.certs.set(r.nodeId, r.certPem);
    if (this.store.view((tx) => tx.get('node', r.nodeId))) return;
    const node = selfNodeObject({
      nodeId: r.nodeId,
      role: r.role === 'swarm-manager' ? 'manager' : 'worker',
      addr: '',
    });
    node.Spec.Availability = r.availability;
    // Until its agent connects, the cluster knows nothing of the node's host.
    node.Status = { State: 'unknown', Addr: '' };
    node.Description = { ...node.Description, Hostname: '' };
    await this.store.update((tx) => tx.create('node', node));
  }

  certificateOf(nodeId: string): string | undefined {
    return this.certs.get(nodeId);
  }
}
