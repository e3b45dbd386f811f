// overlay-net/: the node's overlay data plane (sandboxes, VXLAN, peer tables, veths, tss_gwbridge), the service
// VIP load balancer and routing mesh in nftables, and the DNS server containers resolve service names with.
export { OverlayDataPlane, type OverlayDataPlaneOptions } from './dataplane.js';
export {
  macForIp,
  sandboxPrefix,
  DEFAULT_DATA_PATH_PORT,
  DEFAULT_GWBRIDGE_SUBNET,
  GWBRIDGE,
  type OverlayNetworkConfig,
  type OverlayPeer,
} from './core.js';
export { commandRunner, CommandError, NFT, type CommandRunner } from './exec.js';
export { DnsServer, type DnsScope, type DnsServerOptions } from './dns/index.js';
export { dnsNames } from './dns/names.js';
export {
  vipTargets,
  vipRuleset,
  meshPorts,
  nodeMeshRuleset,
  sandboxMeshRuleset,
  hostPorts,
  hostPortRuleset,
  deleteTable,
  HOST_PORTS_TABLE,
  type HostPort,
  type VipTarget,
  type MeshPort,
} from './lb-rules.js';
export { RoutingMesh } from './routing-mesh.js';
