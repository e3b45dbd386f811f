// The body of Docker's POST /containers/create (the parts we honour), and its checks with Docker's wording.
import { InvalidArgument, type HealthConfig, type Mount } from '../../api/index.js';
import { capabilitySet } from './oci-spec.js';

export interface LogConfig {
  Type: string;
  Config: Record<string, string>;
}

export interface HostConfig {
  Binds?: string[] | null;
  Mounts?: Mount[] | null;
  Tmpfs?: Record<string, string> | null;
  ReadonlyRootfs?: boolean;
  CapAdd?: string[] | null;
  CapDrop?: string[] | null;
  Memory?: number;
  MemorySwap?: number;
  NanoCpus?: number;
  CpuShares?: number;
  CpuQuota?: number;
  CpuPeriod?: number;
  PidsLimit?: number | null;
  NetworkMode?: string;
  LogConfig?: LogConfig;
  AutoRemove?: boolean;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  Privileged?: boolean;
  OomScoreAdj?: number;
  GroupAdd?: string[] | null;
}

export interface ContainerConfigBody {
  Hostname?: string;
  Domainname?: string;
  User?: string;
  Tty?: boolean;
  OpenStdin?: boolean;
  Env?: string[] | null;
  Cmd?: string[] | string | null;
  Entrypoint?: string[] | string | null;
  Image?: string;
  Labels?: Record<string, string> | null;
  WorkingDir?: string;
  StopSignal?: string;
  StopTimeout?: number | null;
  Healthcheck?: HealthConfig | null;
  NetworkDisabled?: boolean;
}

export interface CreateBody extends ContainerConfigBody {
  HostConfig?: HostConfig;
}

const NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const MIN_MEMORY = 6 * 1024 * 1024;

export function checkName(name: string): string {
  if (!NAME.test(name))
    throw new InvalidArgument(`Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  return name.replace(/^\//, '');
}

const SIGNALS: Record<string, number> = {
  HUP: 1,
  INT: 2,
  QUIT: 3,
  ILL: 4,
  TRAP: 5,
  ABRT: 6,
  BUS: 7,
  FPE: 8,
  KILL: 9,
  USR1: 10,
  SEGV: 11,
  USR2: 12,
  PIPE: 13,
  ALRM: 14,
  TERM: 15,
  STKFLT: 16,
  CHLD: 17,
  CONT: 18,
  STOP: 19,
  TSTP: 20,
  TTIN: 21,
  TTOU: 22,
  URG: 23,
  XCPU: 24,
  XFSZ: 25,
  VTALRM: 26,
  PROF: 27,
  WINCH: 28,
  IO: 29,
  PWR: 30,
  SYS: 31,
};

/** "SIGTERM", "TERM", "15" → "SIGTERM" (as runc kill wants a name); Docker's "Invalid signal" otherwise. */
export function parseSignal(text: string): string {
  const s = text.trim().toUpperCase();
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    const name = Object.entries(SIGNALS).find(([, v]) => v === n)?.[0];
    if (name) return `SIG${name}`;
    if (n >= 34 && n <= 64) return String(n);
  } else {
    const bare = s.replace(/^SIG/, '');
    if (SIGNALS[bare] !== undefined) return `SIG${bare}`;
  }
  throw new InvalidArgument(`Invalid signal: ${text}`);
}

/** Docker's RAMInBytes: "10m", "512k", "1g", a plain byte count; binary units. */
export function parseBytes(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtp]?)i?b?$/i.exec(text.trim());
  if (!m) throw new InvalidArgument(`invalid size: '${text}' for ${what}`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[
    m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't' | 'p'
  ];
  return Math.floor(Number(m[1]) * mult);
}

export interface LogOptions {
  type: string;
  maxSize?: number;
  maxFile: number;
}

export function checkLogConfig(c: LogConfig | undefined): LogOptions {
  const type = c?.Type || 'json-file';
  if (!['json-file', 'local', 'k8s-file'].includes(type))
    throw new InvalidArgument(`logging driver "${type}" is not supported (json-file, local or k8s-file)`);
  const out: LogOptions = { type, maxFile: 1 };
  for (const [k, v] of Object.entries(c?.Config ?? {})) {
    if (k === 'max-size') {
      if (v === '-1') continue;
      out.maxSize = parseBytes(v, 'max-size');
      if (out.maxSize <= 0) throw new InvalidArgument(`max-size must be a positive number: ${v}`);
    } else if (k === 'max-file') {
      if (!/^-?\d+$/.test(v)) throw new InvalidArgument(`invalid max-file: ${v}`);
      out.maxFile = Number(v);
      if (out.maxFile < 1) throw new InvalidArgument('max-file cannot be less than 1');
    } else throw new InvalidArgument(`unknown log opt '${k}' for ${type} log driver`);
  }
  if (out.maxFile > 1 && out.maxSize === undefined)
    throw new InvalidArgument('max-file can only be used together with max-size');
  return out;
}

function checkCaps(list: string[] | null | undefined): void {
  const known = new Set([...capabilitySet(['ALL']), 'CAP_ALL']);
  for (const c of list ?? []) {
    const up = c.toUpperCase();
    if (!known.has(up.startsWith('CAP_') ? up : `CAP_${up}`))
      throw new InvalidArgument(`unknown capability: "${c}"`);
  }
}

function checkHealth(h: HealthConfig | null | undefined): void {
  if (!h?.Test?.length) return;
  const kind = h.Test[0];
  if (!['NONE', 'CMD', 'CMD-SHELL'].includes(kind!))
    throw new InvalidArgument(
      `invalid health check test: first word must be NONE, CMD or CMD-SHELL, not "${kind}"`,
    );
  if (kind !== 'NONE' && h.Test.length < 2) throw new InvalidArgument(`health check ${kind} needs a command`);
  const MS = 1e6;
  for (const [k, v] of [
    ['Interval', h.Interval],
    ['Timeout', h.Timeout],
    ['StartPeriod', h.StartPeriod],
    ['StartInterval', h.StartInterval],
  ] as const) {
    if (v && v < MS) throw new InvalidArgument(`${k} in Healthcheck cannot be less than 1ms`);
    if (v && v < 0) throw new InvalidArgument(`${k} in Healthcheck cannot be negative`);
  }
  if ((h.Retries ?? 0) < 0) throw new InvalidArgument('Retries in Healthcheck cannot be negative');
}

/** Resource checks with Docker's messages; returns the effective NanoCPUs (CpuQuota/CpuPeriod folded in). */
export function checkResources(h: HostConfig): { nanoCpus: number } {
  if (h.Memory && h.Memory < MIN_MEMORY) throw new InvalidArgument('Minimum memory limit allowed is 6MB');
  if (h.MemorySwap !== undefined && h.MemorySwap < -1)
    throw new InvalidArgument(`invalid MemorySwap ${h.MemorySwap}: -1 (unlimited) or a byte count`);
  if ((h.CpuShares ?? 0) < 0)
    throw new InvalidArgument(`invalid CpuShares ${h.CpuShares}: must not be negative`);
  if ((h.NanoCpus ?? 0) < 0)
    throw new InvalidArgument(`invalid NanoCpus ${h.NanoCpus}: must not be negative`);
  if ((h.CpuQuota ?? 0) < 0)
    throw new InvalidArgument(`invalid CpuQuota ${h.CpuQuota}: must not be negative`);
  if (h.CpuPeriod && (h.CpuPeriod < 1000 || h.CpuPeriod > 1_000_000))
    throw new InvalidArgument(
      'CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)',
    );
  if (h.NanoCpus && (h.CpuQuota || h.CpuPeriod))
    throw new InvalidArgument('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (h.PidsLimit !== undefined && h.PidsLimit !== null && h.PidsLimit < -1)
    throw new InvalidArgument(`invalid PidsLimit ${h.PidsLimit}: -1 or 0 (unlimited) or a positive count`);
  const nanoCpus = h.NanoCpus || (h.CpuQuota ? Math.round((h.CpuQuota / (h.CpuPeriod || 100_000)) * 1e9) : 0);
  return { nanoCpus };
}

/** Everything in a create body we can check without the image or the disk. */
export function checkCreateBody(b: CreateBody): void {
  if (!b.Image) throw new InvalidArgument('Config cannot be empty in order to create a container');
  const h = b.HostConfig ?? {};
  checkResources(h);
  checkCaps(h.CapAdd);
  checkCaps(h.CapDrop);
  checkHealth(b.Healthcheck);
  checkLogConfig(h.LogConfig);
  const restart = h.RestartPolicy?.Name ?? '';
  if (!['', 'no'].includes(restart))
    throw new InvalidArgument(
      `restart policy "${restart}" is not supported by this node's runtime (only "no")`,
    );
  if (h.Privileged) throw new InvalidArgument('privileged containers are not supported');
  if (b.Hostname && !/^[a-zA-Z0-9]([a-zA-Z0-9.-]{0,62})$/.test(b.Hostname))
    throw new InvalidArgument(`invalid hostname format: ${b.Hostname}`);
  if (b.StopSignal) parseSignal(b.StopSignal);
  if (b.StopTimeout !== undefined && b.StopTimeout !== null && b.StopTimeout < -1)
    throw new InvalidArgument(`invalid StopTimeout ${b.StopTimeout}`);
}

/** Docker accepts Cmd/Entrypoint as a string too (one word list item). */
export function asList(v: string[] | string | null | undefined): string[] | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'string' ? [v] : v;
}
