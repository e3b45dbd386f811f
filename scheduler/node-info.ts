// What the scheduler knows of one node: its description, free resources, and the tasks counted on it.
import type { GenericResource, Node, Task } from '../api/index.js';

/** Amount per generic resource kind: discrete values add up, each named value counts one. */
export function genericAmounts(list: GenericResource[] | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const g of list ?? []) {
    if (g.DiscreteResourceSpec)
      out.set(
        g.DiscreteResourceSpec.Kind,
        (out.get(g.DiscreteResourceSpec.Kind) ?? 0) + g.DiscreteResourceSpec.Value,
      );
    if (g.NamedResourceSpec) out.set(g.NamedResourceSpec.Kind, (out.get(g.NamedResourceSpec.Kind) ?? 0) + 1);
  }
  return out;
}

/** What a placed task holds on its node, so removing the task gives exactly that back. */
export interface Reservation {
  serviceId: string;
  nanoCPUs: number;
  memoryBytes: number;
  generic: Map<string, number>;
  hostPorts: string[];
}

export function reservationOf(t: Task): Reservation {
  const r = t.Spec.Resources?.Reservations;
  return {
    serviceId: t.ServiceID,
    nanoCPUs: r?.NanoCPUs ?? 0,
    memoryBytes: r?.MemoryBytes ?? 0,
    generic: genericAmounts(r?.GenericResources),
    hostPorts: hostPortsOf(t),
  };
}

/** "tcp/8080" keys of a task's host-mode published ports. */
export function hostPortsOf(t: Task): string[] {
  return (t.Endpoint?.Ports ?? [])
    .filter((p) => p.PublishMode === 'host' && p.PublishedPort)
    .map((p) => `${p.Protocol ?? 'tcp'}/${p.PublishedPort}`);
}

export class NodeInfo {
  node!: Node;
  ready = false;
  freeNanoCPUs = 0;
  freeMemory = 0;
  freeGeneric = new Map<string, number>();
  readonly tasksByService = new Map<string, number>();
  totalTasks = 0;
  readonly hostPorts = new Set<string>();
  readonly reservations = new Map<string, Reservation>();
  /** Results of the static filters (ready, constraints, platform) by placement signature; reset by `setNode`. */
  readonly staticPass = new Map<string, boolean>();

  /** `rank` breaks ties between equally loaded nodes: drawn once from the scheduler's seeded RNG. */
  constructor(
    node: Node,
    readonly rank: number,
  ) {
    this.setNode(node);
  }

  get id(): string {
    return this.node.ID;
  }

  /** Updates the description; resources already reserved by counted tasks stay reserved. */
  setNode(node: Node): void {
    this.node = node;
    this.staticPass.clear();
    this.ready = node.Status.State === 'ready' && node.Spec.Availability === 'active';
    const res = node.Description?.Resources;
    let cpu = res?.NanoCPUs ?? 0;
    let mem = res?.MemoryBytes ?? 0;
    const generic = genericAmounts(res?.GenericResources);
    for (const r of this.reservations.values()) {
      cpu -= r.nanoCPUs;
      mem -= r.memoryBytes;
      for (const [k, v] of r.generic) generic.set(k, (generic.get(k) ?? 0) - v);
    }
    this.freeNanoCPUs = cpu;
    this.freeMemory = mem;
    this.freeGeneric = generic;
  }

  serviceCount(serviceId: string): number {
    return this.tasksByService.get(serviceId) ?? 0;
  }

  add(taskId: string, r: Reservation): void {
    if (this.reservations.has(taskId)) return;
    this.reservations.set(taskId, r);
    this.tasksByService.set(r.serviceId, this.serviceCount(r.serviceId) + 1);
    this.totalTasks++;
    this.freeNanoCPUs -= r.nanoCPUs;
    this.freeMemory -= r.memoryBytes;
    for (const [k, v] of r.generic) this.freeGeneric.set(k, (this.freeGeneric.get(k) ?? 0) - v);
    for (const p of r.hostPorts) this.hostPorts.add(p);
  }

  remove(taskId: string): void {
    const r = this.reservations.get(taskId);
    if (!r) return;
    this.reservations.delete(taskId);
    const left = this.serviceCount(r.serviceId) - 1;
    if (left > 0) this.tasksByService.set(r.serviceId, left);
    else this.tasksByService.delete(r.serviceId);
    this.totalTasks--;
    this.freeNanoCPUs += r.nanoCPUs;
    this.freeMemory += r.memoryBytes;
    for (const [k, v] of r.generic) this.freeGeneric.set(k, (this.freeGeneric.get(k) ?? 0) + v);
    for (const p of r.hostPorts) this.hostPorts.delete(p);
  }

  /** True when the node can hold one more task reserving `r`. */
  fits(r: Reservation): boolean {
    if (r.nanoCPUs > this.freeNanoCPUs || r.memoryBytes > this.freeMemory) return false;
    for (const [k, v] of r.generic) if ((this.freeGeneric.get(k) ?? 0) < v) return false;
    return true;
  }
}
