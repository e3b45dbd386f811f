// overlay-net/: the node's overlay data plane (sandboxes, VXLAN, peer tables, veths, tss_gwbridge).
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
