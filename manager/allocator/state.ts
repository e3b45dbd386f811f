// The allocator's pure core: which addresses, VIPs and published ports are held by which task, service and node.
// It works on store objects but never touches the store, so a new leader rebuilds it from what is recorded
// (restore*), and tests drive it directly.
import {
  InvalidArgument,
  NotFound,
  type Endpoint,
  type EndpointSpec,
  type Network,
  type NetworkAttachment,
  type Node,
  type PortConfig,
  type Service,
  type Task,
} from '../../api/index.js';
import type { AddressSpace } from './ipam.js';
import { addressSpaceOf } from './network-status.js';
import { DYNAMIC_PORT_START, isIngress, PortPool, type PortOwner } from './ports.js';

interface Held {
  netId: string;
  addr: string;
}

interface ServiceHold {
  vips: Held[];
  /** Ingress ports taken from the pool, as written into Endpoint.Ports. */
  ports: PortConfig[];
}

export interface AllocatorUsage {
  /** Network id → addresses in use (tasks, VIPs, node load balancers). */
  addresses: Record<string, string[]>;
  /** "tcp/30000" → service id. */
  ports: Record<string, string>;
  tasks: number;
  services: number;
  nodes: number;
}

const normalPort = (p: PortConfig): PortConfig => ({
  ...(p.Name ? { Name: p.Name } : {}),
  Protocol: p.Protocol ?? 'tcp',
  TargetPort: p.TargetPort,
  PublishedPort: p.PublishedPort ?? 0,
  PublishMode: p.PublishMode ?? 'ingress',
});

/** Does the service publish ports through the routing mesh (so it and its tasks join the ingress network)? */
export function usesIngress(spec: EndpointSpec | undefined): boolean {
  return (spec?.Ports ?? []).some(isIngress);
}

export class AllocatorState {
  private readonly networks = new Map<string, Network>();
  private readonly spaces = new Map<string, AddressSpace>();
  private readonly ports = new PortPool();
  private readonly services = new Map<string, ServiceHold>();
  private readonly tasks = new Map<string, Held[]>();
  private readonly nodes = new Map<string, Held>();

  // ---- networks

  /** Adds a network (allocated status required) or refreshes the copy tasks' attachments carry. */
  setNetwork(n: Network): void {
    if (!this.spaces.has(n.ID)) {
      const space = addressSpaceOf(n);
      if (!space) throw new InvalidArgument(`network ${n.Spec.Name} has no allocated subnet`);
      this.spaces.set(n.ID, space);
    }
    this.networks.set(n.ID, n);
  }

  /** Forgets a removed network; addresses still recorded against it are gone with it. */
  dropNetwork(id: string): void {
    this.networks.delete(id);
    this.spaces.delete(id);
  }

  networkIds(): string[] {
    return [...this.networks.keys()];
  }

  ingress(): Network | undefined {
    return [...this.networks.values()].find((n) => n.Spec.Ingress);
  }

  private space(netId: string): AddressSpace {
    const s = this.spaces.get(netId);
    if (!s) throw new NotFound(`network ${netId} not found`);
    return s;
  }

  private release(held: Held[]): void {
    for (const h of held) this.spaces.get(h.netId)?.release(h.addr);
  }

  /** Reserves recorded addresses; those that cannot be (unknown network, taken twice) are left out. */
  private reserve(held: Held[]): Held[] {
    return held.filter((h) => this.spaces.get(h.netId)?.reserve(h.addr));
  }

  // ---- services

  hasService(id: string): boolean {
    return this.services.has(id);
  }

  serviceIds(): string[] {
    return [...this.services.keys()];
  }

  /** Takes what a service's recorded Endpoint holds (on a new leader). */
  restoreService(s: Service): void {
    if (this.services.has(s.ID)) return;
    const owner = { id: s.ID, name: s.Spec.Name };
    const ports: PortConfig[] = [];
    for (const p of s.Endpoint?.Ports ?? []) {
      if (!isIngress(p) || !p.PublishedPort || this.ports.ownerOf(p.Protocol, p.PublishedPort)) continue;
      this.ports.reserve(p.Protocol, p.PublishedPort, owner);
      ports.push(normalPort(p));
    }
    const vips = this.reserve(
      (s.Endpoint?.VirtualIPs ?? []).map((v) => ({ netId: v.NetworkID, addr: v.Addr })),
    );
    this.services.set(s.ID, { vips, ports });
  }

  /**
   * The Endpoint the service should have: its ports with ingress ports' PublishedPort filled (explicit ones
   * reserved, the others from 30000–32767, keeping what it already had), and in vip mode one VIP per attached
   * network plus the ingress network when it publishes through the mesh. All or nothing: on a conflict the
   * service keeps what it held and this throws.
   */
  serviceEndpoint(s: Service): Endpoint {
    const spec: EndpointSpec = s.Spec.EndpointSpec ?? { Mode: 'vip' };
    const owner: PortOwner = { id: s.ID, name: s.Spec.Name };
    const before = this.services.get(s.ID) ?? { vips: [], ports: [] };
    // Ports: give back the old ones, take the new ones (preferring the old numbers); undo on failure.
    for (const p of before.ports) this.ports.release(p.Protocol, p.PublishedPort!, s.ID);
    const ports = (spec.Ports ?? []).map(normalPort);
    const taken: PortConfig[] = [];
    const undoPorts = () => {
      for (const p of taken) this.ports.release(p.Protocol, p.PublishedPort!, s.ID);
      for (const p of before.ports) this.ports.reserve(p.Protocol, p.PublishedPort!, owner);
    };
    try {
      // Explicit ports first, so automatic ones never take a number the spec names.
      for (const p of ports.filter((q) => isIngress(q) && q.PublishedPort)) {
        if (taken.some((t) => t.Protocol === p.Protocol && t.PublishedPort === p.PublishedPort))
          throw new InvalidArgument(`duplicate published port ${p.PublishedPort}/${p.Protocol}`);
        this.ports.reserve(p.Protocol, p.PublishedPort!, owner);
        taken.push(p);
      }
      for (const p of ports.filter((q) => isIngress(q) && !q.PublishedPort)) {
        const old = before.ports.find(
          (o) =>
            o.Protocol === p.Protocol &&
            o.TargetPort === p.TargetPort &&
            o.PublishedPort! >= DYNAMIC_PORT_START &&
            !this.ports.ownerOf(o.Protocol, o.PublishedPort!),
        );
        if (old) this.ports.reserve(p.Protocol, old.PublishedPort!, owner);
        p.PublishedPort = old?.PublishedPort ?? this.ports.allocate(p.Protocol, owner);
        taken.push(p);
      }
    } catch (err) {
      undoPorts();
      throw err;
    }
    // VIPs: keep those on networks still attached, allocate the missing ones, free the rest.
    const wanted = (spec.Mode ?? 'vip') === 'vip' ? this.serviceNetworks(s) : [];
    const vips: Held[] = [];
    try {
      for (const netId of wanted) {
        const old = before.vips.find((v) => v.netId === netId);
        vips.push(old ?? { netId, addr: this.space(netId).allocate() });
      }
    } catch (err) {
      this.release(vips.filter((v) => !before.vips.includes(v)));
      undoPorts();
      throw err;
    }
    this.release(before.vips.filter((v) => !vips.includes(v)));
    this.services.set(s.ID, { vips, ports: taken });
    const endpoint: Endpoint = { Spec: spec };
    if (ports.length) endpoint.Ports = ports;
    if (vips.length) endpoint.VirtualIPs = vips.map((v) => ({ NetworkID: v.netId, Addr: v.addr }));
    return endpoint;
  }

  /** Networks a service (and so its tasks) is attached to: ingress first when it publishes through the mesh. */
  serviceNetworks(s: Service): string[] {
    const ids: string[] = [];
    const ingress = this.ingress();
    if (ingress && usesIngress(s.Spec.EndpointSpec)) ids.push(ingress.ID);
    for (const n of s.Spec.TaskTemplate.Networks ?? []) if (!ids.includes(n.Target)) ids.push(n.Target);
    return ids;
  }

  releaseService(id: string): void {
    const hold = this.services.get(id);
    if (!hold) return;
    this.services.delete(id);
    for (const p of hold.ports) this.ports.release(p.Protocol, p.PublishedPort!, id);
    this.release(hold.vips);
  }

  // ---- tasks

  hasTask(id: string): boolean {
    return this.tasks.has(id);
  }

  taskIds(): string[] {
    return [...this.tasks.keys()];
  }

  restoreTask(t: Task): void {
    if (this.tasks.has(t.ID) || !t.NetworksAttachments?.length) return;
    const held = t.NetworksAttachments.flatMap((a) =>
      a.Addresses.map((addr) => ({ netId: a.Network.ID, addr })),
    );
    this.tasks.set(t.ID, this.reserve(held));
  }

  /**
   * One attachment with one address per network the task joins: its spec's networks, and ingress when its
   * service publishes through the mesh. Allocating again for the same task returns what it already holds.
   */
  taskAttachments(t: Task, service: Service | undefined): NetworkAttachment[] {
    const wanted = service
      ? this.serviceNetworks({ ...service, Spec: { ...service.Spec, TaskTemplate: t.Spec } })
      : (t.Spec.Networks ?? []).map((n) => n.Target);
    for (const id of wanted) if (!this.networks.has(id)) throw new NotFound(`network ${id} not found`);
    let held = this.tasks.get(t.ID);
    if (!held) {
      held = [];
      try {
        for (const netId of wanted) held.push({ netId, addr: this.space(netId).allocate() });
      } catch (err) {
        this.release(held);
        throw err;
      }
      this.tasks.set(t.ID, held);
    }
    return held.map((h) => ({ Network: structuredClone(this.networks.get(h.netId)!), Addresses: [h.addr] }));
  }

  releaseTask(id: string): void {
    const held = this.tasks.get(id);
    if (!held) return;
    this.tasks.delete(id);
    this.release(held);
  }

  // ---- nodes: one load-balancer address per node on the ingress network

  hasNode(id: string): boolean {
    return this.nodes.has(id);
  }

  nodeIds(): string[] {
    return [...this.nodes.keys()];
  }

  restoreNode(n: Node): void {
    if (this.nodes.has(n.ID)) return;
    const a = (n.Attachments ?? []).find((x) => this.networks.get(x.Network.ID)?.Spec.Ingress);
    const addr = a?.Addresses[0];
    if (a && addr) {
      const [held] = this.reserve([{ netId: a.Network.ID, addr }]);
      if (held) this.nodes.set(n.ID, held);
    }
  }

  /** The node's ingress attachment (allocated on first call), or undefined when there is no ingress network. */
  nodeAttachment(nodeId: string): NetworkAttachment | undefined {
    const ingress = this.ingress();
    if (!ingress) return undefined;
    let held = this.nodes.get(nodeId);
    if (held && held.netId !== ingress.ID) {
      this.release([held]);
      held = undefined;
    }
    if (!held) {
      held = { netId: ingress.ID, addr: this.space(ingress.ID).allocate() };
      this.nodes.set(nodeId, held);
    }
    return { Network: structuredClone(ingress), Addresses: [held.addr] };
  }

  releaseNode(id: string): void {
    const held = this.nodes.get(id);
    if (!held) return;
    this.nodes.delete(id);
    this.release([held]);
  }

  usage(): AllocatorUsage {
    return {
      addresses: Object.fromEntries([...this.spaces].map(([id, s]) => [id, s.inUse()])),
      ports: Object.fromEntries(this.ports.inUse()),
      tasks: this.tasks.size,
      services: this.services.size,
      nodes: this.nodes.size,
    };
  }
}
