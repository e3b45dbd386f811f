// What a node needs to know about the overlay networks its tasks are on: the network itself (VNI, subnet),
// where every address on it lives (the peer table the node turns into static FDB/neighbour entries), and the
// services on it with their VIPs and the tasks that get traffic (for DNS and the nftables load balancer).
// Pure: computed from store objects by the dispatcher for each node, sent whole when it changes.
import {
  overlayParams,
  taskStateRank,
  type Network,
  type NetworkPeer,
  type NetworkView,
  type Node,
  type Service,
  type ServiceBackend,
  type ServiceView,
  type Task,
} from '../../api/index.js';

export interface NetworkViewInputs {
  tasks: Task[];
  services: Service[];
  networks: Network[];
  nodes: Node[];
}

const rank = taskStateRank;
const bare = (cidr: string) => cidr.split('/')[0]!;

/** A task whose address is in use: placed, not finished, and not on its way out. */
function holdsAddress(t: Task): boolean {
  return (
    !!t.NodeID &&
    rank(t.Status.State) >= rank('assigned') &&
    rank(t.Status.State) <= rank('running') &&
    rank(t.DesiredState) <= rank('running')
  );
}

/**
 * Indexes the store objects once; the returned function gives the networks relevant to a node, sorted by ID:
 * those its tasks attach to, and ingress once a service publishes on it. A network's view is the same for
 * every node, so each is built once.
 */
export function networkViewsFor(i: NetworkViewInputs): (nodeId: string) => NetworkView[] {
  const live = i.tasks.filter(holdsAddress);
  const byNode = new Map<string, Set<string>>();
  for (const t of live)
    for (const a of t.NetworksAttachments ?? []) {
      let set = byNode.get(t.NodeID!);
      if (!set) byNode.set(t.NodeID!, (set = new Set()));
      set.add(a.Network.ID);
    }
  const ingress = i.networks.find((n) => n.Spec.Ingress);
  const meshInUse =
    !!ingress && i.services.some((s) => s.Endpoint?.VirtualIPs?.some((v) => v.NetworkID === ingress.ID));
  const networks = new Map(i.networks.map((n) => [n.ID, n]));
  const built = new Map<string, NetworkView | undefined>();
  const view = (id: string) => {
    if (!built.has(id)) built.set(id, buildView(networks.get(id), live, i));
    return built.get(id);
  };
  const own = new Map(i.nodes.map((n) => [n.ID, n.Attachments ?? []]));
  return (nodeId) => {
    const wanted = new Set(byNode.get(nodeId));
    if (meshInUse) wanted.add(ingress.ID);
    const out: NetworkView[] = [];
    for (const id of [...wanted].sort()) {
      const v = view(id);
      if (!v) continue;
      const addr = own.get(nodeId)?.find((a) => a.Network.ID === id)?.Addresses[0];
      out.push(addr ? { ...v, nodeAddress: addr } : v);
    }
    return out;
  };
}

export function networkViews(nodeId: string, i: NetworkViewInputs): NetworkView[] {
  return networkViewsFor(i)(nodeId);
}

function buildView(net: Network | undefined, live: Task[], i: NetworkViewInputs): NetworkView | undefined {
  const p = net && overlayParams(net);
  if (!net || !p) return undefined;
  const nodeAddr = new Map(i.nodes.map((n) => [n.ID, n.Status.Addr]));
  const services = new Map(i.services.map((s) => [s.ID, s]));
  // Node load-balancer addresses (ingress) are peers too.
  const peers: NetworkPeer[] = i.nodes.flatMap((n) =>
    (n.Attachments ?? [])
      .filter((a) => a.Network.ID === net.ID && n.Status.Addr)
      .flatMap((a) => a.Addresses.map((ip) => ({ ip: bare(ip), nodeAddr: n.Status.Addr }))),
  );
  const bySvc = new Map<string, ServiceBackend[]>();
  const aliases = new Map<string, Set<string>>();
  for (const t of live) {
    const att = t.NetworksAttachments?.find((a) => a.Network.ID === net.ID);
    const addr = att?.Addresses[0];
    if (!att || !addr) continue;
    const where = nodeAddr.get(t.NodeID!);
    if (where) peers.push({ ip: bare(addr), nodeAddr: where });
    const conf = t.Spec.Networks?.find((c) => c.Target === net.ID || c.Target === net.Spec.Name);
    for (const al of conf?.Aliases ?? []) {
      let set = aliases.get(t.ServiceID);
      if (!set) aliases.set(t.ServiceID, (set = new Set()));
      set.add(al);
    }
    if (t.Status.State !== 'running') continue;
    const svc = services.get(t.ServiceID);
    const list = bySvc.get(t.ServiceID) ?? [];
    list.push({
      taskId: t.ID,
      name: `${svc?.Spec.Name ?? t.ServiceID}.${t.Slot ?? t.NodeID}.${t.ID}`,
      ip: bare(addr),
    });
    bySvc.set(t.ServiceID, list);
  }
  const svcViews: ServiceView[] = [];
  for (const s of i.services) {
    const vip = s.Endpoint?.VirtualIPs?.find((v) => v.NetworkID === net.ID);
    if (!vip && !bySvc.has(s.ID) && !s.Spec.TaskTemplate.Networks?.some((c) => c.Target === net.ID)) continue;
    const mode = s.Spec.EndpointSpec?.Mode ?? 'vip';
    svcViews.push({
      id: s.ID,
      name: s.Spec.Name,
      mode,
      ...(vip && mode === 'vip' ? { vip: bare(vip.Addr) } : {}),
      aliases: [...(aliases.get(s.ID) ?? [])].sort(),
      ports: (s.Endpoint?.Ports ?? []).map((pc) => ({
        protocol: pc.Protocol ?? 'tcp',
        target: pc.TargetPort,
        ...(pc.PublishedPort ? { published: pc.PublishedPort } : {}),
        mode: pc.PublishMode ?? 'ingress',
      })),
      backends: (bySvc.get(s.ID) ?? []).sort((a, b) => a.ip.localeCompare(b.ip)),
    });
  }
  peers.sort((a, b) => a.ip.localeCompare(b.ip));
  return {
    id: net.ID,
    name: net.Spec.Name,
    ...p,
    ingress: !!net.Spec.Ingress,
    internal: !!net.Spec.Internal,
    peers,
    services: svcViews.sort((a, b) => a.name.localeCompare(b.name)),
  };
}
