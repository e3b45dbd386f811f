// Pure IPAM: subnets carved from the cluster's address pools, addresses handed out inside one network's subnet,
// and VXLAN network identifiers. No I/O; everything is rebuilt from the store's objects on a new leader.
import {
  InvalidArgument,
  cidrContains,
  cidrLast,
  cidrOverlaps,
  cidrSize,
  formatCidr,
  formatIPv4,
  parseCidr,
  parseIPv4,
  splitCidr,
  type Cidr,
} from '../../api/index.js';

export const OVERLAP_MESSAGE = 'invalid pool request: Pool overlaps with other one on this address space';
export const POOL_EXHAUSTED_MESSAGE =
  'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network';

/** The first VNI an overlay network gets (as Docker's overlay driver). */
export const FIRST_VNI = 4096;
export const MAX_VNI = (1 << 24) - 1;

/**
 * The first block of `/subnetSize` inside the pools that overlaps none of `taken`. Throws when every block of
 * every pool is taken (Docker's wording).
 */
export function carveSubnet(pools: readonly string[], subnetSize: number, taken: readonly Cidr[]): Cidr {
  for (const text of pools) {
    const pool = parseCidr(text, 'address pool', false);
    if (subnetSize < pool.bits || subnetSize > 30)
      throw new InvalidArgument(`invalid subnet size ${subnetSize} for address pool ${formatCidr(pool)}`);
    const step = 2 ** (32 - subnetSize);
    for (let base = pool.base; base <= cidrLast(pool); base += step) {
      const candidate = { base, bits: subnetSize };
      const clash = taken.find((t) => cidrOverlaps(t, candidate));
      // Skip past the whole clashing block at once: a /16 taken inside a /8 pool is one step, not 256.
      if (clash) base = Math.max(base, cidrLast(clash) + 1 - step);
      else return candidate;
    }
  }
  throw new InvalidArgument(POOL_EXHAUSTED_MESSAGE);
}

export interface SubnetRequest {
  Subnet?: string;
  Gateway?: string;
  IPRange?: string;
}

export interface SubnetChoice {
  subnet: Cidr;
  gateway: number;
  /** Where task and VIP addresses come from (the subnet unless --ip-range narrowed it). */
  range: Cidr;
}

/** An explicit or carved subnet with its gateway and range, checked against the networks that exist. */
export function chooseSubnet(
  req: SubnetRequest | undefined,
  pools: readonly string[],
  subnetSize: number,
  taken: readonly Cidr[],
): SubnetChoice {
  if (!req?.Subnet) {
    if (req?.Gateway || req?.IPRange)
      throw new InvalidArgument('invalid network config: a gateway or ip-range needs a subnet');
    const subnet = carveSubnet(pools, subnetSize, taken);
    return { subnet, gateway: subnet.base + 1, range: subnet };
  }
  const subnet = parseCidr(req.Subnet, 'subnet');
  if (subnet.bits > 30) throw new InvalidArgument(`invalid subnet ${req.Subnet}: too small, at most /30`);
  if (taken.some((t) => cidrOverlaps(t, subnet))) throw new InvalidArgument(OVERLAP_MESSAGE);
  let range = subnet;
  if (req.IPRange) {
    range = parseCidr(req.IPRange, 'ip-range');
    if (range.bits < subnet.bits || !cidrContains(subnet, range.base))
      throw new InvalidArgument(`no matching subnet for range ${req.IPRange}`);
  }
  let gateway = subnet.base + 1;
  if (req.Gateway) {
    const g = parseIPv4(req.Gateway.replace(/\/\d+$/, ''));
    if (g === undefined) throw new InvalidArgument(`invalid gateway ${req.Gateway}: not an IPv4 address`);
    if (!cidrContains(subnet, g) || g === subnet.base || g === cidrLast(subnet))
      throw new InvalidArgument(`no matching subnet for gateway ${req.Gateway}`);
    gateway = g;
  }
  return { subnet, gateway, range };
}

/** The lowest VNI from FIRST_VNI up that is not in `used`. */
export function nextVni(used: ReadonlySet<number>): number {
  for (let v = FIRST_VNI; v <= MAX_VNI; v++) if (!used.has(v)) return v;
  throw new InvalidArgument('no VXLAN network identifier left');
}

/**
 * Addresses of one network. Hands out the next free address after the last one given (serial, as swarmkit asks
 * libnetwork for), so a freed address is not reused at once while stale neighbour entries may still name it.
 * Never gives the network address, the broadcast address or the gateway.
 */
export class AddressSpace {
  private readonly used = new Set<number>();
  private cursor: number;

  constructor(
    readonly subnet: Cidr,
    readonly gateway: number,
    readonly range: Cidr = subnet,
    readonly name = formatCidr(subnet),
  ) {
    this.cursor = range.base;
  }

  private usable(ip: number): boolean {
    return (
      cidrContains(this.range, ip) &&
      ip !== this.subnet.base &&
      ip !== cidrLast(this.subnet) &&
      ip !== this.gateway
    );
  }

  /** A free address as "a.b.c.d/len". Throws when none is left. */
  allocate(): string {
    const size = cidrSize(this.range);
    for (let i = 0; i < size; i++) {
      const ip = this.range.base + ((this.cursor - this.range.base + i) % size);
      if (this.usable(ip) && !this.used.has(ip)) {
        this.used.add(ip);
        this.cursor = ip + 1;
        return this.format(ip);
      }
    }
    throw new InvalidArgument(`no available IPv4 addresses on this network's address pools: ${this.name}`);
  }

  /** Marks an address recorded in the store as taken; false when it is outside the subnet or already taken. */
  reserve(addr: string): boolean {
    const ip = this.ipOf(addr);
    if (ip === undefined || this.used.has(ip) || ip === this.gateway || !cidrContains(this.subnet, ip))
      return false;
    this.used.add(ip);
    return true;
  }

  release(addr: string): void {
    const ip = this.ipOf(addr);
    if (ip !== undefined) this.used.delete(ip);
  }

  has(addr: string): boolean {
    const ip = this.ipOf(addr);
    return ip !== undefined && this.used.has(ip);
  }

  /** Addresses in use, in order, as "a.b.c.d/len". */
  inUse(): string[] {
    return [...this.used].sort((a, b) => a - b).map((ip) => this.format(ip));
  }

  private format(ip: number): string {
    return `${formatIPv4(ip)}/${this.subnet.bits}`;
  }

  private ipOf(addr: string): number | undefined {
    return splitCidr(addr)?.ip ?? parseIPv4(addr);
  }
}
