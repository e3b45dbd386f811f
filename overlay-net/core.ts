// The pure part of the overlay data plane: addresses, names, and peer tables turned into ip/bridge batch lines.
// Nothing here runs a process, so all of it is unit-tested.
import { createHash } from 'node:crypto';
import { formatIPv4, parseIPv4 } from '../api/ipv4.js';

export interface OverlayNetworkConfig {
  id: string;
  vni: number;
  /** CIDR, e.g. 198.19.7.0/24. */
  subnet: string;
  /** An address inside the subnet (no prefix); it goes on the sandbox's bridge as Docker does. */
  gateway: string;
}

export interface OverlayPeer {
  /** Task address without prefix. */
  ip: string;
  /** Underlay IPv4 address of the node the task runs on. */
  nodeAddr: string;
}

/** Bytes a VXLAN packet adds on an IPv4 underlay: outer IP 20 + UDP 8 + VXLAN 8 + inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;
export const DEFAULT_DATA_PATH_PORT = 4789;
/** Docker's docker_gwbridge default; tests always pass a 198.19.x subnet instead. */
export const DEFAULT_GWBRIDGE_SUBNET = '172.18.0.0/16';
export const GWBRIDGE = 'tss_gwbridge';
/** Name of the bridge inside every sandbox namespace. */
export const SANDBOX_BRIDGE = 'br0';
/** nftables table (families ip and bridge) that holds the gateway bridge's NAT and isolation rules. */
export const GW_NFT_TABLE = 'tss_gw';
const GW_VETH_PREFIX = 'tsg';
const VXLAN_PREFIX = 'tsvx';
const IFNAME_MAX = 15;

/** An IPv4 address as a number; throws on anything else (the data plane only takes well-formed input). */
export function parseIpv4(ip: string): number {
  const n = parseIPv4(ip);
  if (n === undefined) throw new Error(`invalid IPv4 address: ${JSON.stringify(ip)}`);
  return n;
}

export interface Cidr {
  /** The address as written (may be a host address). */
  addr: number;
  prefix: number;
  network: number;
  broadcast: number;
}

export function parseCidr(cidr: string): Cidr {
  const [ip, len, extra] = cidr.split('/');
  const prefix = Number(len);
  if (extra !== undefined || len === undefined || !/^\d{1,2}$/.test(len) || prefix > 32)
    throw new Error(`invalid CIDR: ${JSON.stringify(cidr)}`);
  const addr = parseIpv4(ip!);
  const size = 2 ** (32 - prefix);
  const network = addr - (addr % size);
  return { addr, prefix, network, broadcast: network + size - 1 };
}

export function inSubnet(ip: number, c: Cidr): boolean {
  return ip >= c.network && ip <= c.broadcast;
}

/** Docker derives a container's MAC from its IPv4 address, so a peer table needs only IPs and node addresses. */
export function macForIp(ip: string): string {
  const n = parseIpv4(ip);
  return [
    '02',
    '42',
    ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((o) => o.toString(16).padStart(2, '0')),
  ].join(':');
}

/**
 * Named namespaces live in the machine-wide /run/netns, which several lab nodes share, so a sandbox's name
 * carries the node as well as the network.
 */
export function sandboxPrefix(nodeId: string): string {
  return `tss-ov-${nodeId.slice(0, 8)}-`;
}

export function sandboxName(nodeId: string, vni: number): string {
  return `${sandboxPrefix(nodeId)}${vni}`;
}

/** The VXLAN device: made in the node's namespace under this name, then moved into the sandbox. */
export function vxlanName(vni: number): string {
  return `${VXLAN_PREFIX}${vni}`;
}

export function isVxlanName(ifname: string): boolean {
  return ifname.startsWith(VXLAN_PREFIX);
}

function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

/** Host end of a container's veth into a sandbox bridge (lives inside the sandbox; one per container there). */
export function sandboxVethName(netnsPath: string): string {
  return `ve${shortHash(netnsPath)}`;
}

/** Host end of a container's veth into tss_gwbridge (lives in the node's namespace). */
export function gwVethName(netnsPath: string): string {
  return `${GW_VETH_PREFIX}${shortHash(netnsPath)}`;
}

export function isGwVethName(ifname: string): boolean {
  return /^tsg[0-9a-f]{8}$/.test(ifname);
}

export function checkIfname(ifname: string): void {
  if (!/^[A-Za-z0-9_.-]+$/.test(ifname) || ifname.length > IFNAME_MAX)
    throw new Error(
      `invalid interface name ${JSON.stringify(ifname)}: 1 to ${IFNAME_MAX} letters, digits, _ . -`,
    );
}

/** What setPeers must change: entries to remove and to add (a peer that moved node is both). */
export interface PeerDiff {
  remove: OverlayPeer[];
  add: OverlayPeer[];
}

/**
 * Compares the programmed table (ip → node address) with the wanted peers. Peers on `selfAddr` are left out:
 * local containers are reached over the sandbox bridge, which learns them.
 */
export function diffPeers(
  current: ReadonlyMap<string, string>,
  wanted: readonly OverlayPeer[],
  selfAddr: string,
): PeerDiff {
  const next = new Map<string, string>();
  for (const p of wanted) {
    parseIpv4(p.ip);
    parseIpv4(p.nodeAddr);
    if (p.nodeAddr === selfAddr) continue;
    const prev = next.get(p.ip);
    if (prev !== undefined && prev !== p.nodeAddr)
      throw new Error(`peer table names ${p.ip} on two nodes (${prev} and ${p.nodeAddr})`);
    next.set(p.ip, p.nodeAddr);
  }
  const remove: OverlayPeer[] = [];
  const add: OverlayPeer[] = [];
  for (const [ip, nodeAddr] of current) {
    const n = next.get(ip);
    if (n !== nodeAddr) remove.push({ ip, nodeAddr });
  }
  for (const [ip, nodeAddr] of next) if (current.get(ip) !== nodeAddr) add.push({ ip, nodeAddr });
  return { remove, add };
}

/**
 * Batch lines for `bridge -batch -` (static FDB: MAC → remote VTEP) and `ip -batch -` (permanent neighbour
 * entries the VXLAN device answers ARP from, since it runs with `proxy`).
 */
export function peerRemoveCommands(
  vxlan: string,
  peers: readonly OverlayPeer[],
): { bridge: string[]; ip: string[] } {
  return {
    bridge: peers.map((p) => `fdb del ${macForIp(p.ip)} dev ${vxlan} self`),
    ip: peers.map((p) => `neigh del ${p.ip} dev ${vxlan}`),
  };
}

export function peerAddCommands(
  vxlan: string,
  peers: readonly OverlayPeer[],
): { bridge: string[]; ip: string[] } {
  return {
    bridge: peers.map((p) => `fdb replace ${macForIp(p.ip)} dev ${vxlan} dst ${p.nodeAddr} self permanent`),
    ip: peers.map((p) => `neigh replace ${p.ip} lladdr ${macForIp(p.ip)} dev ${vxlan} nud permanent`),
  };
}

/** Hands out host addresses of a subnet, skipping the network, broadcast and reserved (gateway) addresses. */
export class AddressPool {
  private readonly cidr: Cidr;
  private readonly used = new Set<number>();
  private readonly reserved: Set<number>;

  constructor(subnet: string, reserved: string[] = []) {
    this.cidr = parseCidr(subnet);
    if (this.cidr.prefix > 30) throw new Error(`subnet ${subnet} is too small`);
    this.reserved = new Set(reserved.map(parseIpv4));
  }

  get prefix(): number {
    return this.cidr.prefix;
  }

  /** The first host address, which the bridge itself takes. */
  get first(): string {
    return formatIPv4(this.cidr.network + 1);
  }

  allocate(): string {
    for (let a = this.cidr.network + 1; a < this.cidr.broadcast; a++) {
      if (this.used.has(a) || this.reserved.has(a)) continue;
      this.used.add(a);
      return formatIPv4(a);
    }
    throw new Error(`no free address left in ${formatIPv4(this.cidr.network)}/${this.cidr.prefix}`);
  }

  release(ip: string): void {
    this.used.delete(parseIpv4(ip));
  }

  get size(): number {
    return this.used.size;
  }
}

/** The nftables ruleset for tss_gwbridge: masquerade egress, only replies or DNATed traffic in, no container-to-container. */
export function gwbridgeRuleset(subnet: string): string {
  const c = parseCidr(subnet);
  const net = `${formatIPv4(c.network)}/${c.prefix}`;
  return [
    `table ip ${GW_NFT_TABLE} {`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority srcnat; policy accept;`,
    `    ip saddr ${net} oifname != "${GWBRIDGE}" masquerade`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    `    oifname "${GWBRIDGE}" ct state established,related accept`,
    `    oifname "${GWBRIDGE}" ct status dnat accept`,
    `    oifname "${GWBRIDGE}" drop`,
    `  }`,
    `}`,
    // Containers share the gateway bridge only to get out, as with docker_gwbridge's icc=false.
    `table bridge ${GW_NFT_TABLE} {`,
    `  chain forward {`,
    `    type filter hook forward priority filter; policy accept;`,
    `    iifname "${GW_VETH_PREFIX}*" oifname "${GW_VETH_PREFIX}*" drop`,
    `  }`,
    `}`,
    '',
  ].join('\n');
}
