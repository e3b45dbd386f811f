// The OCI runtime bundle configuration (config.json) runc runs, built from a resolved container description.
import type { ResolvedUser } from './user.js';

/** Docker's default capability set. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

export interface ContainerConfig {
  rootfs: string;
  readonlyRootfs?: boolean;
  argv: string[];
  env: string[];
  cwd?: string;
  user: ResolvedUser;
  hostname: string;
  mounts?: OciMount[];
  capAdd?: string[];
  capDrop?: string[];
  /** Bytes; 0 or undefined = unlimited. */
  memory?: number;
  /** NanoCPUs, as Docker's --cpus. */
  nanoCpus?: number;
  cpuShares?: number;
  pids?: number;
  /** "none": own network namespace with loopback only; "host": the node's; or a namespace path to join. */
  network: 'none' | 'host' | { path: string };
  cgroupsPath: string;
  annotations?: Record<string, string>;
  oomScoreAdj?: number;
}

function capName(c: string): string {
  const up = c.toUpperCase();
  return up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** Applies Docker's --cap-add/--cap-drop (with ALL) to the default set. */
export function capabilitySet(add: string[] = [], drop: string[] = []): string[] {
  const all = new Set(DEFAULT_CAPABILITIES);
  const adds = add.map(capName);
  const drops = drop.map(capName);
  let caps = drops.includes('CAP_ALL') ? new Set<string>() : all;
  for (const d of drops) caps.delete(d);
  if (adds.includes('CAP_ALL')) caps = new Set([...caps, ...ALL_CAPABILITIES]);
  for (const a of adds) if (a !== 'CAP_ALL') caps.add(a);
  return [...caps].sort();
}

const ALL_CAPABILITIES = [
  ...DEFAULT_CAPABILITIES,
  'CAP_DAC_READ_SEARCH',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_LEASE',
  'CAP_AUDIT_CONTROL',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
];

const CPU_PERIOD = 100_000;

export function buildOciSpec(c: ContainerConfig): Record<string, unknown> {
  const caps = capabilitySet(c.capAdd, c.capDrop);
  const namespaces: { type: string; path?: string }[] = [
    { type: 'pid' },
    { type: 'ipc' },
    { type: 'uts' },
    { type: 'mount' },
  ];
  if (c.network === 'none') namespaces.push({ type: 'network' });
  else if (typeof c.network === 'object') namespaces.push({ type: 'network', path: c.network.path });
  const resources: Record<string, unknown> = {
    devices: [
      { allow: false, access: 'rwm' },
      ...[
        [1, 3],
        [1, 5],
        [1, 7],
        [1, 8],
        [1, 9],
        [5, 0],
        [5, 2],
      ].map(([major, minor]) => ({ allow: true, type: 'c', major, minor, access: 'rwm' })),
      { allow: true, type: 'c', major: 136, access: 'rwm' },
    ],
  };
  if (c.memory) resources.memory = { limit: c.memory, swap: c.memory };
  if (c.nanoCpus || c.cpuShares) {
    resources.cpu = {
      ...(c.cpuShares ? { shares: c.cpuShares } : {}),
      ...(c.nanoCpus ? { quota: Math.round((c.nanoCpus / 1e9) * CPU_PERIOD), period: CPU_PERIOD } : {}),
    };
  }
  if (c.pids) resources.pids = { limit: c.pids };
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: c.user.uid, gid: c.user.gid, additionalGids: c.user.additionalGids },
      args: c.argv,
      env: c.env,
      cwd: c.cwd || '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      // Limits are inherited from the daemon: raising RLIMIT_NOFILE needs CAP_SYS_RESOURCE, which some hosts
      // (including our CI sandbox) withhold even from root.
      noNewPrivileges: false,
      ...(c.oomScoreAdj !== undefined ? { oomScoreAdj: c.oomScoreAdj } : {}),
    },
    root: { path: c.rootfs, readonly: !!c.readonlyRootfs },
    hostname: c.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/sys/fs/cgroup',
        type: 'cgroup',
        source: 'cgroup',
        options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'],
      },
      ...(c.mounts ?? []),
    ],
    annotations: c.annotations ?? {},
    linux: {
      namespaces,
      resources,
      cgroupsPath: c.cgroupsPath,
      maskedPaths: [
        '/proc/asound',
        '/proc/acpi',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
        '/sys/firmware',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
