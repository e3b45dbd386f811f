// nftables rulesets of the service load balancer and the routing mesh. Pure: views in, ruleset text out; each
// ruleset replaces its table whole in one nft transaction (declare, delete, recreate), so an update is atomic
// and connections already established keep their backend (NAT only sees a connection's first packet).
import type { NetworkView } from '../api/index.js';

/** Table in each task container's namespace: service VIP → a running task of the service. */
export const LB_TABLE = 'tss_lb';
/** Tables of the routing mesh: published port → ingress sandbox (node), → a task on ingress (sandbox). */
export const MESH_TABLE = 'tss_mesh';

export interface VipTarget {
  vip: string;
  /** Addresses of the tasks that take traffic; empty → connections are refused at once. */
  backends: string[];
}

/** The VIPs a container on `networkIds` reaches, each with its running tasks' addresses. */
export function vipTargets(views: readonly NetworkView[], networkIds: ReadonlySet<string>): VipTarget[] {
  const out: VipTarget[] = [];
  for (const v of views) {
    if (!networkIds.has(v.id) || v.ingress) continue;
    for (const s of v.services)
      if (s.mode === 'vip' && s.vip) out.push({ vip: s.vip, backends: s.backends.map((b) => b.ip) });
  }
  return out.sort((a, b) => a.vip.localeCompare(b.vip));
}

/** `numgen inc mod N map { 0 : x, … }`: round robin over the values, as IPVS's default scheduler. */
function roundRobin(values: readonly string[]): string {
  return `numgen inc mod ${values.length} map { ${values.map((v, i) => `${i} : ${v}`).join(', ')} }`;
}

function replaceTable(name: string, body: string[]): string {
  return [`table ip ${name} {}`, `delete table ip ${name}`, `table ip ${name} {`, ...body, '}', ''].join(
    '\n',
  );
}

/** A node-namespace table applying `rules` to traffic from outside (prerouting) and from the node (output). */
function nodePortTable(name: string, rules: string[]): string {
  return replaceTable(name, [
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    ...rules,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...rules,
    '  }',
  ]);
}

/** Empty ruleset text (the table declared then deleted): removes the table if it is there. */
export function deleteTable(name: string): string {
  return `table ip ${name} {}\ndelete table ip ${name}\n`;
}

/**
 * A container's VIP load balancer: every port of a VIP goes to one of its backends (Docker balances a VIP's
 * exposed ports; ours balances all, so a service without published ports is reachable on its VIP too). A VIP
 * with no backend refuses connections rather than letting them time out.
 */
export function vipRuleset(targets: readonly VipTarget[]): string {
  const nat: string[] = [];
  const refuse: string[] = [];
  for (const t of targets) {
    if (t.backends.length) nat.push(`    ip daddr ${t.vip} dnat to ${roundRobin(t.backends)}`);
    else
      refuse.push(
        `    ip daddr ${t.vip} meta l4proto tcp reject with tcp reset`,
        `    ip daddr ${t.vip} reject`,
      );
  }
  return replaceTable(LB_TABLE, [
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...nat,
    '  }',
    '  chain refuse {',
    '    type filter hook output priority 0; policy accept;',
    ...refuse,
    '  }',
  ]);
}

export interface MeshPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  published: number;
  target: number;
  /** Ingress addresses of the service's running tasks (on any node). */
  backends: string[];
}

/** Ingress-mode published ports of the services on the ingress network, sorted by port. */
export function meshPorts(views: readonly NetworkView[]): MeshPort[] {
  const ingress = views.find((v) => v.ingress);
  const out: MeshPort[] = [];
  for (const s of ingress?.services ?? [])
    for (const p of s.ports)
      if (p.mode === 'ingress' && p.published)
        out.push({
          protocol: p.protocol,
          published: p.published,
          target: p.target,
          backends: s.backends.map((b) => b.ip),
        });
  return out.sort((a, b) => a.published - b.published || a.protocol.localeCompare(b.protocol));
}

/**
 * The node's side: a published port arriving on any of the node's addresses goes to the ingress sandbox's
 * gateway-bridge address (same port). Traffic the node makes itself to its own address goes there too.
 */
export function nodeMeshRuleset(ports: readonly MeshPort[], sandboxAddr: string): string {
  const rules = ports.map(
    (p) => `    fib daddr type local ${p.protocol} dport ${p.published} dnat to ${sandboxAddr}`,
  );
  return nodePortTable(MESH_TABLE, rules);
}

/**
 * The ingress sandbox's side: a published port goes to a running task's ingress address and target port, with
 * the source rewritten to the node's load-balancer address so the reply comes back through this sandbox.
 */
export function sandboxMeshRuleset(ports: readonly MeshPort[], ingressIf: string): string {
  const nat: string[] = [];
  const refuse: string[] = [];
  for (const p of ports) {
    if (p.backends.length)
      nat.push(
        `    ${p.protocol} dport ${p.published} dnat ip to ${roundRobin(p.backends.map((b) => `${b} . ${p.target}`))}`,
      );
    else if (p.protocol === 'tcp') refuse.push(`    tcp dport ${p.published} reject with tcp reset`);
    else refuse.push(`    ${p.protocol} dport ${p.published} reject`);
  }
  return replaceTable(MESH_TABLE, [
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    ...nat,
    '  }',
    '  chain refuse {',
    '    type filter hook input priority 0; policy accept;',
    ...refuse,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    oifname "${ingressIf}" ct status dnat masquerade`,
    '  }',
  ]);
}

/** Table in the node's namespace for `mode=host` published ports: only tasks on this node answer them. */
export const HOST_PORTS_TABLE = 'tss_hostports';

export interface HostPort {
  protocol: 'tcp' | 'udp' | 'sctp';
  published: number;
  target: number;
  /** Gateway-bridge addresses of this node's tasks that publish it. */
  backends: string[];
}

/** Host-mode ports of the services whose tasks run here, given each local task's service and bridge address. */
export function hostPorts(
  views: readonly NetworkView[],
  localTasks: readonly { serviceId: string; gatewayAddr: string }[],
): HostPort[] {
  const out = new Map<string, HostPort>();
  for (const v of views)
    for (const s of v.services)
      for (const p of s.ports) {
        if (p.mode !== 'host' || !p.published) continue;
        const key = `${p.protocol}/${p.published}`;
        const entry = out.get(key) ?? {
          protocol: p.protocol,
          published: p.published,
          target: p.target,
          backends: [],
        };
        for (const t of localTasks)
          if (t.serviceId === s.id && !entry.backends.includes(t.gatewayAddr))
            entry.backends.push(t.gatewayAddr);
        out.set(key, entry);
      }
  return [...out.values()].filter((p) => p.backends.length).sort((a, b) => a.published - b.published);
}

export function hostPortRuleset(ports: readonly HostPort[]): string {
  const rules = ports.map(
    (p) =>
      `    fib daddr type local ${p.protocol} dport ${p.published} dnat ip to ${roundRobin(p.backends.map((b) => `${b} . ${p.target}`))}`,
  );
  return nodePortTable(HOST_PORTS_TABLE, rules);
}
