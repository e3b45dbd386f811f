// A two-host rig for the overlay data plane: lab host namespaces on a bridge in 198.18.x, one OverlayDataPlane
// per host running its commands inside that host's namespace, and plain namespaces as "containers".
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Lab, type LabHost } from '../../../deploy/lab/index.js';
import { OverlayDataPlane } from '../../../overlay-net/index.js';
import { createLogger } from '../../../api/log.js';

export const GW_SUBNET = '198.19.255.0/24';
const quiet = createLogger({}, () => undefined);

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] });
}

/** Runs argv and reports whether it exited 0 (for checks that are expected to fail, such as a ping). */
export function succeeds(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function inNs(ns: string, argv: string[]): string {
  return sh('nsenter', [`--net=/run/netns/${ns}`, ...argv]);
}

/** One reply within 3 s (the first ARP after a peer appears may be lost). */
export function ping(ns: string, ip: string): boolean {
  return succeeds('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-w', '3', ip]);
}

/** Interface names in a named namespace. */
export function links(ns: string): string[] {
  return sh('ip', ['-n', ns, '-o', 'link', 'show'])
    .split('\n')
    .map((l) => /^\d+:\s+([^:@\s]+)/.exec(l)?.[1])
    .filter((l): l is string => !!l);
}

export function namespaces(): string[] {
  return sh('ip', ['netns', 'list'])
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter(Boolean);
}

export interface RigNode {
  host: LabHost;
  nodeId: string;
  dp: OverlayDataPlane;
}

export class Rig {
  readonly id = randomBytes(3).toString('hex');
  nodes: RigNode[] = [];
  private containers: string[] = [];
  private procs: ChildProcess[] = [];

  private constructor(readonly lab: Lab) {}

  static async create(hosts = 2): Promise<Rig> {
    const rig = new Rig(await Lab.create({ tsswarm: [] }));
    try {
      for (let i = 1; i <= hosts; i++) {
        const host = await rig.lab.addHost(`h${i}`);
        const nodeId = randomBytes(8).toString('hex');
        rig.nodes.push({ host, nodeId, dp: rig.dataPlane(host, nodeId) });
      }
    } catch (err) {
      await rig.destroy();
      throw err;
    }
    return rig;
  }

  /** A data plane for `host` (another instance with the same node ID simulates a restarted daemon). */
  dataPlane(host: LabHost, nodeId: string): OverlayDataPlane {
    return new OverlayDataPlane({
      nodeId,
      underlayAddr: host.addr,
      gwbridgeSubnet: GW_SUBNET,
      execPrefix: ['nsenter', `--net=/run/netns/${host.netns}`],
      log: quiet,
    });
  }

  /** A "container": a plain named network namespace. */
  container(name: string): { ns: string; path: string } {
    const ns = `tss-${this.id}-${name}`;
    this.containers.push(ns);
    sh('ip', ['netns', 'add', ns]);
    return { ns, path: `/run/netns/${ns}` };
  }

  /** Starts a child process (killed on destroy). */
  spawn(argv: string[]): ChildProcess {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(p);
    return p;
  }

  async destroy(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const n of this.nodes) await n.dp.stop().catch(() => undefined);
    for (const c of this.containers)
      try {
        sh('ip', ['netns', 'del', c]);
      } catch {
        // Already removed by the test.
      }
    // Sandboxes of a node whose stop() failed must not outlive the test either.
    for (const ns of namespaces())
      if (this.nodes.some((n) => ns.startsWith(`tss-ov-${n.nodeId.slice(0, 8)}-`)))
        sh('ip', ['netns', 'del', ns]);
    await this.lab.down();
  }
}
