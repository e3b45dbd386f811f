// Published ports of the routing mesh: one owner per protocol/port across the cluster; ports left to the
// allocator come from Docker's dynamic range 30000–32767.
import { InvalidArgument, type PortConfig, type PortProtocol } from '../../api/index.js';

export const DYNAMIC_PORT_START = 30000;
export const DYNAMIC_PORT_END = 32767;

export interface PortOwner {
  id: string;
  name: string;
}

export const portInUseMessage = (port: number, owner: PortOwner): string =>
  `port '${port}' is already in use by service '${owner.name}' (${owner.id}) as an ingress port`;

const keyOf = (protocol: PortProtocol | undefined, port: number) => `${protocol ?? 'tcp'}/${port}`;

/** Ingress-mode ports: routed by every node. Host-mode ports bind on the task's node and are not pooled. */
export const isIngress = (p: PortConfig): boolean => (p.PublishMode ?? 'ingress') === 'ingress';

export class PortPool {
  private readonly owners = new Map<string, PortOwner>();

  ownerOf(protocol: PortProtocol | undefined, port: number): PortOwner | undefined {
    return this.owners.get(keyOf(protocol, port));
  }

  /** Takes an explicit port for `owner`; throws Docker's conflict message when another service holds it. */
  reserve(protocol: PortProtocol | undefined, port: number, owner: PortOwner): void {
    const current = this.ownerOf(protocol, port);
    if (current && current.id !== owner.id) throw new InvalidArgument(portInUseMessage(port, current));
    this.owners.set(keyOf(protocol, port), owner);
  }

  /** The lowest free port of the dynamic range for `owner`. */
  allocate(protocol: PortProtocol | undefined, owner: PortOwner): number {
    for (let p = DYNAMIC_PORT_START; p <= DYNAMIC_PORT_END; p++) {
      if (!this.owners.has(keyOf(protocol, p))) {
        this.owners.set(keyOf(protocol, p), owner);
        return p;
      }
    }
    throw new InvalidArgument(
      `could not find an available port in the range ${DYNAMIC_PORT_START}-${DYNAMIC_PORT_END}`,
    );
  }

  /** Frees a port if `ownerId` holds it. */
  release(protocol: PortProtocol | undefined, port: number, ownerId: string): void {
    if (this.ownerOf(protocol, port)?.id === ownerId) this.owners.delete(keyOf(protocol, port));
  }

  /** Ports in use as "tcp/30000" → owner id. */
  inUse(): Map<string, string> {
    return new Map([...this.owners].map(([k, o]) => [k, o.id]));
  }
}
