// A network's allocated status (subnet, gateway, VNI) as Docker's swarm network inspect shows it, decided when
// the network is created from the networks that already exist, so a bad or overlapping subnet fails at once.
import {
  VXLAN_ID_OPTION,
  formatCidr,
  formatIPv4,
  parseCidr,
  parseIPv4,
  type Cidr,
  type Network,
  type NetworkSpec,
} from '../../api/index.js';
import { AddressSpace, chooseSubnet, nextVni } from './ipam.js';

export const INGRESS_NAME = 'ingress';

export interface AddressPools {
  DefaultAddrPool: string[];
  SubnetSize: number;
}

export const DEFAULT_POOLS: AddressPools = { DefaultAddrPool: ['10.0.0.0/8'], SubnetSize: 24 };

/** The subnets a network's status records (empty before allocation). */
export function networkSubnets(n: Network): Cidr[] {
  return (n.IPAMOptions?.Configs ?? []).flatMap((c) =>
    c.Subnet ? [parseCidr(c.Subnet, 'subnet', false)] : [],
  );
}

export function networkVnis(n: Network): number[] {
  const list = n.DriverState?.Options?.[VXLAN_ID_OPTION] ?? '';
  return list
    .split(',')
    .map(Number)
    .filter((v) => Number.isInteger(v) && v > 0);
}

export function isAllocated(n: Network): boolean {
  return networkVnis(n).length > 0 && networkSubnets(n).length > 0;
}

/** Status for a new network: its first IPAM config honoured or carved from the pools, and the lowest free VNI. */
export function allocateNetworkStatus(
  spec: NetworkSpec,
  existing: readonly Network[],
  pools: AddressPools,
): Pick<Network, 'DriverState' | 'IPAMOptions'> {
  const taken = existing.flatMap(networkSubnets);
  const req = spec.IPAMOptions?.Configs?.[0];
  const c = chooseSubnet(req, pools.DefaultAddrPool, pools.SubnetSize, taken);
  const vni = nextVni(new Set(existing.flatMap(networkVnis)));
  const config: { Subnet: string; Gateway: string; IPRange?: string } = {
    Subnet: formatCidr(c.subnet),
    Gateway: formatIPv4(c.gateway),
  };
  if (req?.IPRange) config.IPRange = formatCidr(c.range);
  return {
    DriverState: {
      Name: spec.DriverConfiguration?.Name ?? 'overlay',
      Options: { ...spec.DriverConfiguration?.Options, [VXLAN_ID_OPTION]: String(vni) },
    },
    IPAMOptions: { Driver: { Name: spec.IPAMOptions?.Driver?.Name ?? 'default' }, Configs: [config] },
  };
}

/** The address space of an allocated network, empty of task addresses. */
export function addressSpaceOf(n: Network): AddressSpace | undefined {
  const config = n.IPAMOptions?.Configs?.[0];
  if (!config?.Subnet) return undefined;
  const subnet = parseCidr(config.Subnet, 'subnet', false);
  const gateway = (config.Gateway && parseIPv4(config.Gateway)) || subnet.base + 1;
  const range = config.IPRange ? parseCidr(config.IPRange, 'ip-range', false) : subnet;
  return new AddressSpace(subnet, gateway, range, `${n.Spec.Name} (${n.ID})`);
}

/** The routing mesh's network, made at `swarm init` as Docker does. */
export function ingressNetworkSpec(): NetworkSpec {
  return {
    Name: INGRESS_NAME,
    Labels: {},
    DriverConfiguration: { Name: 'overlay' },
    Ingress: true,
    Scope: 'swarm',
    IPAMOptions: { Driver: { Name: 'default' } },
  };
}

/** A complete ingress network object for the store, allocated from the pools. */
export function newIngressNetwork(id: string, pools: AddressPools, now: string): Network {
  const spec = ingressNetworkSpec();
  return {
    ID: id,
    Version: { Index: 0 },
    CreatedAt: now,
    UpdatedAt: now,
    Spec: spec,
    ...allocateNetworkStatus(spec, [], pools),
  };
}
