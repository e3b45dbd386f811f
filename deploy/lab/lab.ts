// A local multi-host cluster: one network namespace (+ UTS namespace) per node on a bridge in 198.18.0.0/16.
import { spawn, type ChildProcess } from 'node:child_process';
import {
  mkdirSync,
  openSync,
  closeSync,
  rmSync,
  writeFileSync,
  readFileSync,
  existsSync,
  readdirSync,
} from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { run } from './exec.js';

export const LAB_STATE_DIR = '/run/tsswarm-lab';

export interface LabHost {
  name: string;
  netns: string;
  /** Underlay address inside the host's namespace. */
  addr: string;
  dir: string;
  dataRoot: string;
  socket: string;
  logFile: string;
  pid?: number;
}

export interface LabState {
  id: string;
  bridge: string;
  /** Third octet of 198.18.<octet>.0/24. */
  octet: number;
  dir: string;
  hosts: LabHost[];
  forwardRule: boolean;
}

export interface LabOptions {
  /** argv that runs `tsswarm` (e.g. [node, dist/cli/main.js] or [node, --import, tsx, cli/main.ts]). */
  tsswarm: string[];
  /** Extra daemon flags for every host. */
  daemonArgs?: string[];
  baseDir?: string;
}

function statePath(id: string): string {
  return join(LAB_STATE_DIR, `${id}.json`);
}

function usedOctets(): Set<number> {
  const used = new Set<number>();
  if (!existsSync(LAB_STATE_DIR)) return used;
  for (const f of readdirSync(LAB_STATE_DIR)) {
    try {
      used.add((JSON.parse(readFileSync(join(LAB_STATE_DIR, f), 'utf8')) as LabState).octet);
    } catch {
      // A half-written state file: its lab is being torn down.
    }
  }
  return used;
}

function ping(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get({ socketPath: socket, path: '/_ping' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
  });
}

/**
 * Named namespaces a node's daemon made for overlay networks (sandboxes `tss-ov-<node>-…`, task namespaces
 * `tss-t-<node>-…`); a daemon that stops cleanly removes them itself, a killed one leaves them.
 */
async function removeNodeNamespaces(dataRoot: string): Promise<void> {
  let nodeId: string | undefined;
  try {
    nodeId = (JSON.parse(readFileSync(join(dataRoot, 'swarm', 'state.json'), 'utf8')) as { nodeId?: string })
      .nodeId;
  } catch {
    return; // never in a swarm: it made none
  }
  if (!nodeId || !existsSync('/run/netns')) return;
  const mine = [`tss-ov-${nodeId.slice(0, 8)}-`, `tss-t-${nodeId.slice(0, 8)}-`];
  for (const ns of readdirSync('/run/netns'))
    if (mine.some((p) => ns.startsWith(p))) await run('ip', ['netns', 'del', ns], { allowFail: true });
}

/** Unmounts everything mounted below `dir`, deepest first, so removing the directory never reaches into a mount. */
export async function unmountUnder(dir: string): Promise<void> {
  const mounts = readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m === dir || m.startsWith(dir + '/')))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) await run('umount', ['-l', m], { allowFail: true });
}

export class Lab {
  readonly state: LabState;
  private children = new Map<string, ChildProcess>();

  private constructor(
    state: LabState,
    private readonly opts: LabOptions,
  ) {
    this.state = state;
  }

  /** Creates the bridge and lets its traffic through a FORWARD policy of DROP (as after dockerd ran). */
  static async create(opts: LabOptions): Promise<Lab> {
    const id = randomBytes(3).toString('hex');
    mkdirSync(LAB_STATE_DIR, { recursive: true });
    const used = usedOctets();
    let octet = 1 + (parseInt(id, 16) % 250);
    while (used.has(octet)) octet = (octet % 250) + 1;
    const dir = join(opts.baseDir ?? '/tmp', `tss-lab-${id}`);
    mkdirSync(dir, { recursive: true });
    const lab = new Lab({ id, bridge: `tss${id}br`, octet, dir, hosts: [], forwardRule: false }, opts);
    lab.save();
    try {
      await run('ip', ['link', 'add', lab.state.bridge, 'type', 'bridge']);
      await run('ip', ['addr', 'add', `198.18.${octet}.254/24`, 'dev', lab.state.bridge]);
      await run('ip', ['link', 'set', lab.state.bridge, 'up']);
      await run('iptables', [
        '-I',
        'FORWARD',
        '-i',
        lab.state.bridge,
        '-o',
        lab.state.bridge,
        '-j',
        'ACCEPT',
        '-m',
        'comment',
        '--comment',
        `tss-lab-${id}`,
      ]);
      lab.state.forwardRule = true;
      lab.save();
    } catch (err) {
      await lab.down();
      throw err;
    }
    return lab;
  }

  /** Re-opens a lab made by another process (for `lab down`). */
  static load(id: string, opts: LabOptions): Lab {
    return new Lab(JSON.parse(readFileSync(statePath(id), 'utf8')) as LabState, opts);
  }

  get id(): string {
    return this.state.id;
  }

  host(name: string): LabHost {
    const h = this.state.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`lab ${this.id} has no host ${name}`);
    return h;
  }

  /** Adds a namespace host `name` with the next underlay address; does not start its daemon. */
  async addHost(name: string): Promise<LabHost> {
    const n = this.state.hosts.length + 1;
    const netns = `tss-${this.id}-${name}`;
    const addr = `198.18.${this.state.octet}.${n}`;
    const dir = join(this.state.dir, name);
    mkdirSync(dir, { recursive: true });
    const host: LabHost = {
      name,
      netns,
      addr,
      dir,
      dataRoot: join(dir, 'root'),
      socket: join(dir, 'api.sock'),
      logFile: join(dir, 'daemon.log'),
    };
    this.state.hosts.push(host);
    this.save();
    const outer = `tss${this.id}v${n}`;
    await run('ip', ['netns', 'add', netns]);
    await run('ip', ['link', 'add', outer, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run('ip', ['link', 'set', outer, 'master', this.state.bridge, 'up']);
    await run('ip', ['-n', netns, 'addr', 'add', `${addr}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    await run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
    await run('ip', ['-n', netns, 'route', 'add', 'default', 'via', `198.18.${this.state.octet}.254`]);
    return host;
  }

  /** Starts the host's daemon inside its network namespace and its own UTS namespace (hostname = host name). */
  async startDaemon(name: string, extraArgs: string[] = []): Promise<void> {
    const h = this.host(name);
    const fd = openSync(h.logFile, 'a');
    const [cmd, ...pre] = this.opts.tsswarm;
    const daemonArgv = [
      cmd!,
      ...pre,
      'daemon',
      '--data-root',
      h.dataRoot,
      '--host',
      `unix://${h.socket}`,
      ...(this.opts.daemonArgs ?? []),
      ...extraArgs,
    ];
    // nsenter, not `ip netns exec`: the latter remounts /sys for the namespace, which hides the cgroup
    // hierarchies under /sys/fs/cgroup that runc needs to start the host's containers.
    const child = spawn(
      'nsenter',
      [
        `--net=/run/netns/${h.netns}`,
        'unshare',
        '--uts',
        '--',
        'sh',
        '-c',
        `hostname "$0" && exec "$@"`,
        h.name,
        ...daemonArgv,
      ],
      {
        stdio: ['ignore', fd, fd],
        detached: true,
      },
    );
    closeSync(fd);
    child.unref();
    this.children.set(name, child);
    h.pid = child.pid;
    this.save();
    const deadline = Date.now() + 30_000;
    while (!(await ping(h.socket))) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(
          `daemon on lab host ${name} did not start; log ${h.logFile}:\n${readFileSync(h.logFile, 'utf8').slice(-2000)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Stops the daemon (SIGTERM, or SIGKILL to simulate a crash) and waits for it to exit. */
  async stopDaemon(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const h = this.host(name);
    if (!h.pid) return;
    try {
      process.kill(h.pid, signal);
    } catch {
      // Already gone.
    }
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        process.kill(h.pid, 0);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (Date.now() >= deadline) process.kill(h.pid, 'SIGKILL');
    h.pid = undefined;
    this.children.delete(name);
    this.save();
  }

  /** argv to run `tsswarm` against a host's socket. */
  cli(name: string): string[] {
    return [...this.opts.tsswarm, '-H', `unix://${this.host(name).socket}`];
  }

  /** Removes everything the lab made: daemons, namespaces, links, the FORWARD rule, data roots, state. */
  async down(): Promise<void> {
    for (const h of this.state.hosts) {
      await this.stopDaemon(h.name, 'SIGTERM').catch(() => undefined);
      // Anything still running in the namespace (containers' processes) goes with it.
      const pids = (await run('ip', ['netns', 'pids', h.netns], { allowFail: true }))
        .split(/\s+/)
        .filter(Boolean);
      for (const p of pids) {
        try {
          process.kill(Number(p), 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
      }
      // Containers live in namespaces of their own (network none): remove them through runc, which kills their
      // processes and removes their cgroups; their conmon monitors then exit.
      const runcRoot = join(h.dataRoot, 'runc');
      if (existsSync(runcRoot)) {
        const ids = (await run('runc', ['--root', runcRoot, 'list', '--quiet'], { allowFail: true }))
          .split(/\s+/)
          .filter(Boolean);
        for (const id of ids)
          await run('runc', ['--root', runcRoot, 'delete', '--force', id], { allowFail: true });
      }
      await removeNodeNamespaces(h.dataRoot);
      await run('ip', ['netns', 'del', h.netns], { allowFail: true });
    }
    for (let n = 1; n <= this.state.hosts.length; n++)
      await run('ip', ['link', 'del', `tss${this.id}v${n}`], { allowFail: true });
    await run('ip', ['link', 'del', this.state.bridge], { allowFail: true });
    if (this.state.forwardRule) {
      await run(
        'iptables',
        [
          '-D',
          'FORWARD',
          '-i',
          this.state.bridge,
          '-o',
          this.state.bridge,
          '-j',
          'ACCEPT',
          '-m',
          'comment',
          '--comment',
          `tss-lab-${this.id}`,
        ],
        { allowFail: true },
      );
    }
    await unmountUnder(this.state.dir);
    rmSync(this.state.dir, { recursive: true, force: true });
    rmSync(statePath(this.id), { force: true });
  }

  private save(): void {
    writeFileSync(statePath(this.id), JSON.stringify(this.state, null, 2));
  }
}
