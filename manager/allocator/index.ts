// manager/allocator: IPAM for overlay networks (subnets, task addresses, VIPs, node load-balancer addresses),
// VNIs, and the routing mesh's published ports; a pure core plus the leader-only loop that applies it.
export { Allocator, taskDead } from './allocator.js';
export { AllocatorState, usesIngress, type AllocatorUsage } from './state.js';
export { AddressSpace, carveSubnet, chooseSubnet, nextVni, FIRST_VNI, OVERLAP_MESSAGE } from './ipam.js';
export { PortPool, isIngress, portInUseMessage, DYNAMIC_PORT_START, DYNAMIC_PORT_END } from './ports.js';
export {
  allocateNetworkStatus,
  addressSpaceOf,
  ingressNetworkSpec,
  newIngressNetwork,
  networkSubnets,
  isAllocated,
  INGRESS_NAME,
  DEFAULT_POOLS,
  type AddressPools,
} from './network-status.js';
