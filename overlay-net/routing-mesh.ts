// The routing mesh on one node: published ports answer on every node address. A port arriving at the node is
// DNATed to the ingress sandbox (a namespace with a leg on the ingress overlay, holding the node's load-balancer
// address, and a leg on tss_gwbridge); the sandbox DNATs it to a running task's ingress address on any node and
// masquerades it as the load-balancer address, so replies come back through the same sandbox.
import { createLogger, errorMessage, type Logger, type NetworkView } from '../api/index.js';
import { sandboxPrefix } from './core.js';
import type { OverlayDataPlane } from './dataplane.js';
import { NFT, type CommandRunner } from './exec.js';
import { deleteTable, meshPorts, MESH_TABLE, nodeMeshRuleset, sandboxMeshRuleset } from './lb-rules.js';

const INGRESS_IF = 'eth0';
const GATEWAY_IF = 'eth1';

interface Sandbox {
  name: string;
  path: string;
  networkId: string;
  address: string;
  /** Its address on tss_gwbridge: where the node sends published ports. */
  gatewayAddr: string;
}

export class RoutingMesh {
  private sandbox?: Sandbox;
  private nodeRules = '';
  private sandboxRules = '';
  private readonly log: Logger;

  constructor(
    private readonly plane: OverlayDataPlane,
    private readonly nodeId: string,
    private readonly run: CommandRunner,
    log?: Logger,
  ) {
    this.log = log ?? createLogger({ component: 'routing-mesh' });
  }

  /** Brings the mesh in line with the views (the ingress network must already be set up on the plane). */
  async update(views: readonly NetworkView[]): Promise<void> {
    const ingress = views.find((v) => v.ingress && v.nodeAddress);
    const ports = meshPorts(views);
    if (!ingress?.nodeAddress || !ports.length) return this.stop();
    const s = this.sandbox;
    if (s && (s.networkId !== ingress.id || s.address !== ingress.nodeAddress)) await this.stop();
    const sandbox = this.sandbox ?? (await this.createSandbox(ingress.id, ingress.nodeAddress));
    const sandboxRules = sandboxMeshRuleset(ports, INGRESS_IF);
    if (sandboxRules !== this.sandboxRules) {
      await this.run(['nsenter', `--net=${sandbox.path}`, NFT, '-f', '-'], sandboxRules);
      this.sandboxRules = sandboxRules;
    }
    const nodeRules = nodeMeshRuleset(ports, sandbox.gatewayAddr);
    if (nodeRules !== this.nodeRules) {
      await this.run([NFT, '-f', '-'], nodeRules);
      this.nodeRules = nodeRules;
    }
  }

  /** Removes the node's mesh rules and the ingress sandbox. */
  async stop(): Promise<void> {
    if (this.nodeRules) {
      await this.run([NFT, '-f', '-'], deleteTable(MESH_TABLE)).catch((err: unknown) =>
        this.log.warn('removing the routing mesh rules failed', { err: errorMessage(err) }),
      );
      this.nodeRules = '';
    }
    const s = this.sandbox;
    if (!s) return;
    this.sandbox = undefined;
    this.sandboxRules = '';
    await this.plane.detach(s.path).catch(() => undefined);
    await this.run(['ip', 'netns', 'delete', s.name]).catch(() => undefined);
  }

  private async createSandbox(networkId: string, address: string): Promise<Sandbox> {
    // Under the data plane's prefix, so a restarted node's start() removes a leftover one.
    const name = `${sandboxPrefix(this.nodeId)}ingress-lb`;
    const path = `/run/netns/${name}`;
    await this.run(['ip', 'netns', 'delete', name]).catch(() => undefined);
    await this.run(['ip', 'netns', 'add', name]);
    try {
      await this.plane.attach({ netnsPath: path, networkId, address, ifname: INGRESS_IF });
      await this.plane.attachGateway(path, GATEWAY_IF);
      await this.run(['nsenter', `--net=${path}`, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
    } catch (err) {
      await this.plane.detach(path).catch(() => undefined);
      await this.run(['ip', 'netns', 'delete', name]).catch(() => undefined);
      throw err;
    }
    const gatewayAddr = this.plane.gatewayAddressOf(path)!;
    this.sandbox = { name, path, networkId, address, gatewayAddr };
    this.log.info('routing mesh sandbox set up', { address, gateway: gatewayAddr });
    return this.sandbox;
  }
}
