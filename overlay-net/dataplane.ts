// The node's overlay data plane: one sandbox namespace per overlay network (bridge + VXLAN device), static
// FDB/neighbour entries from the peer table, container veths into the sandboxes, and the tss_gwbridge for egress.
import type { Logger } from '../api/log.js';
import { createLogger } from '../api/log.js';
import { formatIPv4 } from '../api/ipv4.js';
import {
  AddressPool,
  DEFAULT_DATA_PATH_PORT,
  DEFAULT_GWBRIDGE_SUBNET,
  GWBRIDGE,
  GW_NFT_TABLE,
  SANDBOX_BRIDGE,
  VXLAN_OVERHEAD,
  checkIfname,
  diffPeers,
  gwVethName,
  gwbridgeRuleset,
  inSubnet,
  isGwVethName,
  isVxlanName,
  macForIp,
  parseCidr,
  parseIpv4,
  peerAddCommands,
  peerRemoveCommands,
  sandboxName,
  sandboxPrefix,
  sandboxVethName,
  vxlanName,
  type OverlayNetworkConfig,
  type OverlayPeer,
} from './core.js';
import { commandRunner, NFT, type CommandRunner } from './exec.js';

export interface OverlayDataPlaneOptions {
  nodeId: string;
  /** This node's underlay IPv4 address: the VXLAN devices' local end and what peers send to. */
  underlayAddr: string;
  /** UDP port of the data path (Docker's --data-path-port); 4789 by default. */
  dataPathPort?: number;
  /** CIDR of tss_gwbridge; Docker's docker_gwbridge default 172.18.0.0/16 when not given. */
  gwbridgeSubnet?: string;
  log?: Logger;
  /**
   * Put before every command, e.g. ['nsenter', '--net=/run/netns/HOST'] to run this node's data plane in a
   * lab host's namespace. The product's daemon already runs in its host's namespace and passes nothing.
   */
  execPrefix?: string[];
  /** Replaces the process runner entirely (execPrefix is then ignored). */
  run?: CommandRunner;
}

interface NetworkState {
  cfg: OverlayNetworkConfig;
  sandbox: string;
  vxlan: string;
  /** Programmed remote peers: task IP → node underlay address. */
  peers: Map<string, string>;
}

interface OverlayAttachment {
  networkId: string;
  sandbox: string;
  hostIf: string;
  ifname: string;
}

interface ContainerState {
  overlays: OverlayAttachment[];
  gateway?: { hostIf: string; ip: string; ifname: string };
}

export class OverlayDataPlane {
  private readonly nodeId: string;
  private readonly underlayAddr: string;
  private readonly port: number;
  private readonly gwSubnet: string;
  private readonly log: Logger;
  private readonly run: CommandRunner;
  private readonly networks = new Map<string, NetworkState>();
  private readonly containers = new Map<string, ContainerState>();
  private gwPool: AddressPool;
  private mtu = 1500 - VXLAN_OVERHEAD;
  private restoreIpForward = false;
  private started = false;
  /** Every change runs alone: the steps of one (e.g. creating a sandbox) must not interleave with another's. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(o: OverlayDataPlaneOptions) {
    if (!/^[A-Za-z0-9]{1,64}$/.test(o.nodeId)) throw new Error(`invalid node ID ${JSON.stringify(o.nodeId)}`);
    parseIpv4(o.underlayAddr);
    this.nodeId = o.nodeId;
    this.underlayAddr = o.underlayAddr;
    this.port = o.dataPathPort ?? DEFAULT_DATA_PATH_PORT;
    if (!Number.isInteger(this.port) || this.port < 1 || this.port > 65535)
      throw new Error(`invalid data path port ${o.dataPathPort}`);
    this.gwSubnet = o.gwbridgeSubnet ?? DEFAULT_GWBRIDGE_SUBNET;
    this.gwPool = new AddressPool(this.gwSubnet);
    this.gwPool.allocate(); // the bridge's own address
    this.log = (o.log ?? createLogger()).child({ component: 'overlay-net', node: o.nodeId });
    this.run = o.run ?? commandRunner(o.execPrefix ?? []);
  }

  /** MTU of the overlay interfaces: the underlay device's MTU less the VXLAN overhead (known after start()). */
  get overlayMtu(): number {
    return this.mtu;
  }

  /** Path of a network's sandbox namespace on this node (for the load-balancer and DNS parts). */
  sandboxNetns(networkId: string): string | undefined {
    const n = this.networks.get(networkId);
    return n && `/run/netns/${n.sandbox}`;
  }

  /** The address of this node on tss_gwbridge (containers' default gateway). */
  get gatewayAddress(): string {
    return this.gwPool.first;
  }

  /** Removes what an earlier run of this node left behind, then creates tss_gwbridge and its NAT. */
  start(): Promise<void> {
    return this.serial(async () => {
      if (this.started) return;
      await this.removeLeftovers();
      this.mtu = (await this.underlayMtu()) - VXLAN_OVERHEAD;
      const gw = this.gwPool.first;
      await this.ipBatch(
        [],
        [
          `link add ${GWBRIDGE} type bridge`,
          `addr add ${gw}/${this.gwPool.prefix} dev ${GWBRIDGE}`,
          `link set ${GWBRIDGE} up`,
        ],
      );
      await this.run([NFT, '-f', '-'], gwbridgeRuleset(this.gwSubnet));
      if ((await this.run(['sysctl', '-n', 'net.ipv4.ip_forward'])).trim() !== '1') {
        await this.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
        this.restoreIpForward = true;
      }
      this.started = true;
      this.log.info('overlay data plane started', {
        underlay: this.underlayAddr,
        mtu: this.mtu,
        gwbridge: this.gwSubnet,
      });
    });
  }

  /** Removes everything this data plane made: attachments, sandboxes (with their VXLAN devices), tss_gwbridge, nft tables. */
  stop(): Promise<void> {
    return this.serial(async () => {
      for (const path of [...this.containers.keys()]) await this.detachNow(path);
      for (const id of [...this.networks.keys()]) await this.removeNetworkNow(id);
      await this.removeLeftovers();
      if (this.restoreIpForward) {
        await this.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']).catch(() => undefined);
        this.restoreIpForward = false;
      }
      this.started = false;
    });
  }

  /** Creates the network's sandbox, bridge and VXLAN device; does nothing if it is already set up the same way. */
  ensureNetwork(n: OverlayNetworkConfig): Promise<void> {
    return this.serial(async () => {
      this.requireStarted();
      const subnet = parseCidr(n.subnet);
      if (!Number.isInteger(n.vni) || n.vni < 1 || n.vni > 0xffffff) throw new Error(`invalid VNI ${n.vni}`);
      if (!inSubnet(parseIpv4(n.gateway), subnet))
        throw new Error(`gateway ${n.gateway} is not in subnet ${n.subnet}`);
      const have = this.networks.get(n.id);
      if (have) {
        if (have.cfg.vni === n.vni && have.cfg.subnet === n.subnet && have.cfg.gateway === n.gateway) return;
        throw new Error(
          `overlay network ${n.id} is already set up with VNI ${have.cfg.vni} and subnet ${have.cfg.subnet}`,
        );
      }
      for (const other of this.networks.values())
        if (other.cfg.vni === n.vni)
          throw new Error(`VNI ${n.vni} is already used by network ${other.cfg.id}`);
      const sandbox = sandboxName(this.nodeId, n.vni);
      const vxlan = vxlanName(n.vni);
      // A sandbox of this name without state here is a leftover (e.g. a removal that failed half way).
      await this.deleteSandbox(sandbox, vxlan);
      try {
        // The VXLAN device is created in the node's namespace, so its UDP socket stays on the underlay, and is
        // then moved into the sandbox, as Docker does.
        await this.ipBatch(
          [],
          [
            `netns add ${sandbox}`,
            `link add ${vxlan} mtu ${this.mtu} type vxlan id ${n.vni} local ${this.underlayAddr} dstport ${this.port} nolearning proxy`,
            `link set ${vxlan} netns ${sandbox}`,
          ],
        );
        await this.ipBatch(
          ['-n', sandbox],
          [
            'link set lo up',
            `link add ${SANDBOX_BRIDGE} mtu ${this.mtu} type bridge`,
            `addr add ${n.gateway}/${subnet.prefix} dev ${SANDBOX_BRIDGE}`,
            `link set ${vxlan} master ${SANDBOX_BRIDGE}`,
            // Remote MACs come from the peer table only; a learned entry would outlive the peer's removal.
            `link set ${vxlan} type bridge_slave learning off`,
            `link set ${vxlan} up`,
            `link set ${SANDBOX_BRIDGE} up`,
          ],
        );
      } catch (err) {
        await this.deleteSandbox(sandbox, vxlan);
        await this.ipBatch([], [`link del ${vxlan}`], true);
        throw err;
      }
      this.networks.set(n.id, { cfg: { ...n }, sandbox, vxlan, peers: new Map() });
      this.log.info('overlay network set up', { network: n.id, vni: n.vni, sandbox });
    });
  }

  /** Removes the network's sandbox; containers still attached to it lose that interface. */
  removeNetwork(id: string): Promise<void> {
    return this.serial(() => this.removeNetworkNow(id));
  }

  /** Takes the whole peer set of a network and programs only the difference; peers on this node are ignored. */
  setPeers(networkId: string, peers: OverlayPeer[]): Promise<void> {
    return this.serial(async () => {
      const n = this.networks.get(networkId);
      if (!n) throw new Error(`overlay network ${networkId} is not set up on this node`);
      const diff = diffPeers(n.peers, peers, this.underlayAddr);
      if (diff.remove.length) {
        // Deleting an entry that is already gone is not an error worth failing the update for.
        const rm = peerRemoveCommands(n.vxlan, diff.remove);
        await this.batch(['ip', '-n', n.sandbox], rm.ip, true);
        await this.batch(['bridge', '-n', n.sandbox], rm.bridge, true);
        for (const p of diff.remove) n.peers.delete(p.ip);
      }
      if (diff.add.length) {
        const add = peerAddCommands(n.vxlan, diff.add);
        await this.batch(['bridge', '-n', n.sandbox], add.bridge);
        await this.batch(['ip', '-n', n.sandbox], add.ip);
        for (const p of diff.add) n.peers.set(p.ip, p.nodeAddr);
      }
      if (diff.remove.length || diff.add.length)
        this.log.debug('overlay peers updated', {
          network: networkId,
          added: diff.add.length,
          removed: diff.remove.length,
        });
    });
  }

  /** Connects a container's namespace to a network: a veth `ifname` with `address` (CIDR) and its IP-derived MAC. */
  attach(a: { netnsPath: string; networkId: string; address: string; ifname: string }): Promise<void> {
    return this.serial(async () => {
      const n = this.networks.get(a.networkId);
      if (!n) throw new Error(`overlay network ${a.networkId} is not set up on this node`);
      checkIfname(a.ifname);
      const addr = parseCidr(a.address);
      const subnet = parseCidr(n.cfg.subnet);
      if (!inSubnet(addr.addr, subnet) || addr.prefix !== subnet.prefix)
        throw new Error(`address ${a.address} is not in network ${a.networkId}'s subnet ${n.cfg.subnet}`);
      const c = this.containers.get(a.netnsPath) ?? { overlays: [] };
      if (c.overlays.some((o) => o.networkId === a.networkId))
        throw new Error(`container namespace ${a.netnsPath} is already attached to network ${a.networkId}`);
      if (c.overlays.some((o) => o.ifname === a.ifname) || c.gateway?.ifname === a.ifname)
        throw new Error(`container namespace ${a.netnsPath} already has an interface ${a.ifname}`);
      const hostIf = sandboxVethName(a.netnsPath);
      const ip = formatIPv4(addr.addr);
      await this.ipBatch(
        ['-n', n.sandbox],
        [
          `link add ${hostIf} mtu ${this.mtu} type veth peer name ${a.ifname} address ${macForIp(ip)} mtu ${this.mtu} netns ${a.netnsPath}`,
          `link set ${hostIf} master ${SANDBOX_BRIDGE} up`,
        ],
      );
      try {
        await this.ipBatch(
          ['nsenter', `--net=${a.netnsPath}`],
          [`addr add ${ip}/${addr.prefix} dev ${a.ifname}`, `link set ${a.ifname} up`, 'link set lo up'],
        );
      } catch (err) {
        await this.ipBatch(['-n', n.sandbox], [`link del ${hostIf}`], true);
        throw err;
      }
      c.overlays.push({ networkId: a.networkId, sandbox: n.sandbox, hostIf, ifname: a.ifname });
      this.containers.set(a.netnsPath, c);
    });
  }

  /**
   * Gives a container a veth into tss_gwbridge with an address from its subnet and the default route through
   * it (egress via NAT). `ifname` defaults to the next free ethN after the container's overlay interfaces.
   */
  attachGateway(netnsPath: string, ifname?: string, o: { defaultRoute?: boolean } = {}): Promise<void> {
    return this.serial(async () => {
      this.requireStarted();
      const c = this.containers.get(netnsPath) ?? { overlays: [] };
      if (c.gateway) throw new Error(`container namespace ${netnsPath} is already attached to ${GWBRIDGE}`);
      let name = ifname;
      if (name === undefined) {
        const used = new Set(c.overlays.map((o) => o.ifname));
        for (let i = 0; name === undefined; i++) if (!used.has(`eth${i}`)) name = `eth${i}`;
      }
      checkIfname(name);
      if (c.overlays.some((o) => o.ifname === name))
        throw new Error(`container namespace ${netnsPath} already has an interface ${name}`);
      const hostIf = gwVethName(netnsPath);
      const ip = this.gwPool.allocate();
      try {
        await this.ipBatch(
          [],
          [
            `link add ${hostIf} type veth peer name ${name} address ${macForIp(ip)} netns ${netnsPath}`,
            `link set ${hostIf} master ${GWBRIDGE} up`,
          ],
        );
        try {
          await this.ipBatch(
            ['nsenter', `--net=${netnsPath}`],
            [
              `addr add ${ip}/${this.gwPool.prefix} dev ${name}`,
              `link set ${name} up`,
              'link set lo up',
              // Without it (containers on internal networks only) the node's resolver is all the leg reaches.
              ...(o.defaultRoute === false
                ? []
                : [`route replace default via ${this.gwPool.first} dev ${name}`]),
            ],
          );
        } catch (err) {
          await this.ipBatch([], [`link del ${hostIf}`], true);
          throw err;
        }
      } catch (err) {
        this.gwPool.release(ip);
        throw err;
      }
      c.gateway = { hostIf, ip, ifname: name };
      this.containers.set(netnsPath, c);
    });
  }

  /** Removes everything attached for a container (its veths; its gateway address goes back to the pool). */
  detach(netnsPath: string): Promise<void> {
    return this.serial(() => this.detachNow(netnsPath));
  }

  /** The container's address on tss_gwbridge, if attached (e.g. for host-mode ports). */
  gatewayAddressOf(netnsPath: string): string | undefined {
    return this.containers.get(netnsPath)?.gateway?.ip;
  }

  private async detachNow(netnsPath: string): Promise<void> {
    const c = this.containers.get(netnsPath);
    if (!c) return;
    // The container's namespace may already be gone, and its veths with it: deleting is best effort.
    for (const o of c.overlays) await this.ipBatch(['-n', o.sandbox], [`link del ${o.hostIf}`], true);
    if (c.gateway) {
      await this.ipBatch([], [`link del ${c.gateway.hostIf}`], true);
      this.gwPool.release(c.gateway.ip);
    }
    this.containers.delete(netnsPath);
  }

  private async removeNetworkNow(id: string): Promise<void> {
    const n = this.networks.get(id);
    if (!n) return;
    for (const [path, c] of this.containers) {
      c.overlays = c.overlays.filter((o) => o.networkId !== id);
      if (!c.overlays.length && !c.gateway) this.containers.delete(path);
    }
    await this.deleteSandbox(n.sandbox, n.vxlan);
    this.networks.delete(id);
    this.log.info('overlay network removed', { network: id, sandbox: n.sandbox });
  }

  /**
   * Deletes the VXLAN device before the namespace: the kernel tears a namespace down asynchronously, and the
   * device's UDP socket would otherwise hold the VNI a moment longer than a quick re-create expects.
   */
  private async deleteSandbox(sandbox: string, vxlan: string): Promise<void> {
    if (!(await this.namespaces()).includes(sandbox)) return;
    await this.ipBatch(['-n', sandbox], [`link del ${vxlan}`], true);
    await this.ipBatch([], [`netns del ${sandbox}`], true);
  }

  private async removeLeftovers(): Promise<void> {
    const prefix = sandboxPrefix(this.nodeId);
    for (const ns of await this.namespaces()) {
      if (!ns.startsWith(prefix)) continue;
      const vni = Number(ns.slice(prefix.length));
      if (Number.isInteger(vni)) await this.deleteSandbox(ns, vxlanName(vni));
      else await this.ipBatch([], [`netns del ${ns}`], true);
    }
    const links = (await this.run(['ip', '-o', 'link', 'show']))
      .split('\n')
      .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
      .filter((l): l is string => !!l);
    const stale = links.filter((l) => l === GWBRIDGE || isGwVethName(l) || isVxlanName(l));
    if (stale.length)
      await this.ipBatch(
        [],
        stale.map((l) => `link del ${l}`),
        true,
      );
    for (const family of ['ip', 'bridge'])
      await this.run([NFT, 'delete', 'table', family, GW_NFT_TABLE]).catch(() => undefined);
  }

  private async namespaces(): Promise<string[]> {
    return (await this.run(['ip', 'netns', 'list']))
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean);
  }

  /** MTU of the device that holds the underlay address; 1500 if this node does not have that address. */
  private async underlayMtu(): Promise<number> {
    const addrs = await this.run(['ip', '-o', '-4', 'addr', 'show']);
    const dev = addrs
      .split('\n')
      .map((l) => /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(l))
      .find((m) => m?.[2] === this.underlayAddr)?.[1];
    if (!dev) {
      this.log.warn('underlay address is not on any interface of this node; assuming MTU 1500', {
        underlay: this.underlayAddr,
      });
      return 1500;
    }
    const link = await this.run(['ip', '-o', 'link', 'show', 'dev', dev]);
    return Number(/\bmtu (\d+)/.exec(link)?.[1] ?? 1500);
  }

  private requireStarted(): void {
    if (!this.started) throw new Error('overlay data plane is not started');
  }

  /** `ip [-n NS] -batch -` (or `nsenter --net=PATH ip -batch -` when `pre` starts with nsenter). */
  private ipBatch(pre: string[], lines: string[], tolerant = false): Promise<string> {
    const argv = pre[0] === 'nsenter' ? [...pre, 'ip'] : ['ip', ...pre];
    return this.batch(argv, lines, tolerant);
  }

  /** One process for all `lines`; `tolerant` goes on past failing lines and ignores the failure. */
  private async batch(argv: string[], lines: string[], tolerant = false): Promise<string> {
    if (!lines.length) return '';
    const full = [...argv, ...(tolerant ? ['-force'] : []), '-batch', '-'];
    try {
      return await this.run(full, lines.join('\n') + '\n');
    } catch (err) {
      if (tolerant) {
        this.log.debug('ignored failure', { error: (err as Error).message });
        return '';
      }
      throw err;
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn, fn);
    this.queue = p.catch(() => undefined);
    return p;
  }
}
