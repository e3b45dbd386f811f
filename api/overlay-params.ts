// Where a swarm network keeps its allocated data-plane parameters, in Docker's shapes: the VXLAN ID in the
// driver state's options, the subnet and gateway in the IPAM configs.
import type { Network } from './types/network.js';

export const VXLAN_ID_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';

/** The network's VNI, subnet (CIDR) and gateway (bare address), or undefined while it is not allocated. */
export function overlayParams(n: Network): { vni: number; subnet: string; gateway: string } | undefined {
  const vni = Number(n.DriverState?.Options?.[VXLAN_ID_OPTION]?.split(',')[0]);
  const cfg = n.IPAMOptions?.Configs?.[0];
  if (!Number.isInteger(vni) || vni <= 0 || !cfg?.Subnet || !cfg.Gateway) return undefined;
  return { vni, subnet: cfg.Subnet, gateway: cfg.Gateway.split('/')[0]! };
}
