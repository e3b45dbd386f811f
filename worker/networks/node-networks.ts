// A node's overlay networking for its tasks: the data plane (sandboxes, VXLAN, peers), one network namespace
// per task container with its overlay interfaces, a gateway-bridge leg and its VIP load balancer, the node's
// DNS server, and the routing mesh — all driven by the node's view of each network (peers, services, running
// backends) as the dispatcher sends it.
import { unlinkSync } from 'node:fs';
import { createLogger, errorMessage, type Logger, type NetworkView, type Task } from '../../api/index.js';
import {
  CommandError,
  dnsNames,
  DnsServer,
  NFT,
  OverlayDataPlane,
  RoutingMesh,
  deleteTable,
  hostPortRuleset,
  hostPorts,
  HOST_PORTS_TABLE,
  vipRuleset,
  vipTargets,
  type CommandRunner,
  type DnsScope,
} from '../../overlay-net/index.js';
import { run, type ContainerFile, type RunError } from '../../runtime/index.js';
import { resolvConf, taskAttachments, taskNetnsName, type TaskAttachment } from './task-networks.js';

export interface NodeNetworksOptions {
  nodeId: string;
  underlayAddr: string;
  dataPathPort?: number;
  gwbridgeSubnet?: string;
  log?: Logger;
}

/** What a task's container is given: the namespace to join and files (resolv.conf) to see. */
export interface PreparedNetworks {
  netns: string;
  files: ContainerFile[];
}

interface TaskNetns {
  name: string;
  path: string;
  serviceId: string;
  attachments: TaskAttachment[];
  /** The VIP ruleset last applied in its namespace. */
  lb?: string;
}

/** ip/nft/nsenter through the runtime's launcher shell: the agent never forks itself for them. */
async function launcherRunner(argv: string[], input?: string): Promise<string> {
  try {
    return (await run(argv[0]!, argv.slice(1), { input })).stdout;
  } catch (err) {
    const e = err as RunError;
    throw new CommandError(argv, typeof e.code === 'number' ? e.code : null, e.stderr || e.message);
  }
}

export class NodeNetworks {
  private readonly plane: OverlayDataPlane;
  private readonly mesh: RoutingMesh;
  private readonly run: CommandRunner = launcherRunner;
  private dns?: DnsServer;
  /** The host-mode ports ruleset last applied in the node's namespace ('' when there is none). */
  private hostRules = '';
  private readonly log: Logger;
  private views: NetworkView[] = [];
  /** The views pass waiting in the queue, if any. */
  private viewsPass?: Promise<void>;
  private readonly tasks = new Map<string, TaskNetns>();
  /** Networks this node set up, with the tasks using them (a network with none and no view is torn down). */
  private readonly networks = new Set<string>();
  private started?: Promise<void>;
  /** Changes run one at a time, in order: views and task attachments touch the same devices. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: NodeNetworksOptions) {
    this.log = o.log ?? createLogger({ component: 'node-networks' });
    this.plane = new OverlayDataPlane({
      nodeId: o.nodeId,
      underlayAddr: o.underlayAddr,
      dataPathPort: o.dataPathPort,
      gwbridgeSubnet: o.gwbridgeSubnet,
      log: this.log,
      run: this.run,
    });
    this.mesh = new RoutingMesh(this.plane, o.nodeId, this.run, this.log);
  }

  start(): Promise<void> {
    this.started ??= this.startNow();
    return this.started;
  }

  private async startNow(): Promise<void> {
    await this.plane.start();
    // Task namespace names an earlier run left (a crash): adopted tasks are attached again by their process.
    for (const name of await this.namedNetns())
      if (name.startsWith(taskNetnsName(this.o.nodeId, ''))) await this.deleteNetns(name);
    // Containers reach the resolver over their gateway-bridge leg; it tells them apart by source address.
    const dns = new DnsServer({ address: this.plane.gatewayAddress, log: this.log });
    try {
      await dns.start();
      this.dns = dns;
    } catch (err) {
      this.log.warn('the DNS server could not start: service names will not resolve in containers', {
        err: errorMessage(err),
      });
    }
  }

  async stop(): Promise<void> {
    await this.queue.catch(() => undefined);
    await this.mesh.stop();
    if (this.hostRules)
      await this.run([NFT, '-f', '-'], deleteTable(HOST_PORTS_TABLE)).catch(() => undefined);
    this.hostRules = '';
    await this.dns?.stop();
    this.dns = undefined;
    for (const t of this.tasks.values()) await this.deleteNetns(t.name);
    this.tasks.clear();
    this.networks.clear();
    await this.plane.stop();
    this.started = undefined;
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(async () => {
      await this.start();
      return fn();
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The dispatcher's views, whole: networks set up and their peer tables brought up to date. */
  setViews(views: NetworkView[]): Promise<void> {
    this.views = views;
    this.log.debug('network views received', { networks: views.map((v) => v.name).join(',') });
    // Views that arrive while a pass waits in the queue are taken by that pass: under churn the node
    // programs the latest views once instead of working through every stale set in turn.
    if (this.viewsPass) return this.viewsPass;
    const pass = this.serial(async () => {
      if (this.viewsPass === pass) this.viewsPass = undefined;
      const views = this.views;
      for (const v of views) {
        await this.plane.ensureNetwork({ id: v.id, vni: v.vni, subnet: v.subnet, gateway: v.gateway });
        this.networks.add(v.id);
        await this.plane.setPeers(v.id, v.peers);
      }
      await this.refreshEndpoints();
      await this.mesh.update(views);
      await this.pruneNetworks();
    });
    this.viewsPass = pass;
    void pass
      .catch(() => undefined)
      .finally(() => {
        if (this.viewsPass === pass) this.viewsPass = undefined;
      });
    return pass;
  }

  /** Each task's VIP load balancer and DNS names, from the current views; only changed rulesets are applied. */
  private async refreshEndpoints(): Promise<void> {
    const scopes: DnsScope[] = [];
    for (const t of this.tasks.values()) {
      const ids = new Set(t.attachments.map((a) => a.networkId));
      const rules = vipRuleset(vipTargets(this.views, ids));
      if (rules !== t.lb) {
        try {
          await this.run(['nsenter', `--net=${t.path}`, NFT, '-f', '-'], rules);
          t.lb = rules;
        } catch (err) {
          this.log.warn('programming a task load balancer failed', { netns: t.name, err: errorMessage(err) });
        }
      }
      const client = this.plane.gatewayAddressOf(t.path);
      if (client) scopes.push({ clients: [client], names: dnsNames(this.views, ids) });
    }
    this.dns?.setScopes(scopes);
    const local = [...this.tasks.values()].flatMap((t) => {
      const gatewayAddr = this.plane.gatewayAddressOf(t.path);
      return gatewayAddr ? [{ serviceId: t.serviceId, gatewayAddr }] : [];
    });
    const ports = hostPorts(this.views, local);
    const rules = ports.length ? hostPortRuleset(ports) : this.hostRules && deleteTable(HOST_PORTS_TABLE);
    if (rules !== this.hostRules) {
      try {
        await this.run([NFT, '-f', '-'], rules);
        this.hostRules = ports.length ? rules : '';
      } catch (err) {
        this.log.warn('programming host-mode ports failed', { err: errorMessage(err) });
      }
    }
  }

  /** A network no view names and no local task uses is removed from this node. */
  private async pruneNetworks(): Promise<void> {
    const used = new Set(this.views.map((v) => v.id));
    for (const t of this.tasks.values()) for (const a of t.attachments) used.add(a.networkId);
    for (const id of [...this.networks]) {
      if (used.has(id)) continue;
      this.networks.delete(id);
      await this.plane
        .removeNetwork(id)
        .catch((err: unknown) =>
          this.log.warn('removing a network failed', { network: id, err: errorMessage(err) }),
        );
    }
  }

  /** Makes the task's namespace with its overlay interfaces; undefined for a task on no overlay network. */
  prepare(task: Task): Promise<PreparedNetworks | undefined> {
    return this.connect(task, (name) => this.run(['ip', 'netns', 'add', name]));
  }

  /**
   * Reconnects the running container of a task adopted after a restart: the data plane was rebuilt, so its
   * namespace (found through its process) gets its interfaces, load balancer and DNS scope again.
   */
  async adopt(task: Task, pid: number): Promise<void> {
    await this.connect(task, (name) => this.run(['ip', 'netns', 'attach', name, String(pid)]));
  }

  private connect(
    task: Task,
    makeNetns: (name: string) => Promise<unknown>,
  ): Promise<PreparedNetworks | undefined> {
    const attachments = taskAttachments(task);
    if (attachments.length === 0) return Promise.resolve(undefined);
    return this.serial(async () => {
      const name = taskNetnsName(this.o.nodeId, task.ID);
      const path = `/run/netns/${name}`;
      await this.deleteNetns(name);
      await makeNetns(name);
      const t: TaskNetns = { name, path, serviceId: task.ServiceID, attachments };
      this.tasks.set(task.ID, t);
      try {
        await this.run(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
        for (const a of attachments) {
          await this.plane.ensureNetwork({
            id: a.networkId,
            vni: a.vni,
            subnet: a.subnet,
            gateway: a.gateway,
          });
          this.networks.add(a.networkId);
          const view = this.views.find((v) => v.id === a.networkId);
          if (view) await this.plane.setPeers(a.networkId, view.peers);
          await this.plane.attach({
            netnsPath: path,
            networkId: a.networkId,
            address: a.address,
            ifname: a.ifname,
          });
        }
        // Egress through the gateway bridge unless every network of the task is internal (the leg stays for DNS).
        await this.plane.attachGateway(path, `eth${attachments.length}`, {
          defaultRoute: !attachments.every((a) => a.internal),
        });
      } catch (err) {
        await this.releaseLocked(task.ID);
        throw err;
      }
      await this.refreshEndpoints();
      const resolv = resolvConf(this.plane.gatewayAddress);
      return {
        netns: path,
        files: [{ target: '/etc/resolv.conf', data: Buffer.from(resolv), uid: 0, gid: 0, mode: 0o444 }],
      };
    });
  }

  /** Removes the task's namespace and interfaces (its container is gone or going). */
  release(taskId: string): Promise<void> {
    if (!this.tasks.has(taskId)) return Promise.resolve();
    return this.serial(() => this.releaseLocked(taskId));
  }

  private async releaseLocked(taskId: string): Promise<void> {
    const t = this.tasks.get(taskId);
    if (!t) return;
    this.tasks.delete(taskId);
    await this.plane
      .detach(t.path)
      .catch((err: unknown) =>
        this.log.warn('detaching a task failed', { task: taskId, err: errorMessage(err) }),
      );
    await this.deleteNetns(t.name);
    await this.refreshEndpoints();
    await this.pruneNetworks();
  }

  private async namedNetns(): Promise<string[]> {
    return (await this.run(['ip', 'netns', 'list']))
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter(Boolean);
  }

  private async deleteNetns(name: string): Promise<void> {
    await this.run(['ip', 'netns', 'delete', name]).catch(() => {
      // Not there (the usual case); a stale mount point left by a crash is removed below.
      try {
        unlinkSync(`/run/netns/${name}`);
      } catch {
        // nothing left
      }
    });
  }
}
