// Docker's container health checks: a probe (CMD or CMD-SHELL) run inside the container every interval, with a
// timeout; `retries` consecutive failures make it unhealthy, one success healthy; failures during the start
// period do not count while it is still starting. The last 5 results are kept for inspect.
import type { HealthConfig } from '../../api/index.js';
import type { ExecResult } from './exec.js';
import type { HealthLogEntry, HealthState } from './state-files.js';

const SECOND = 1e9;
export const HEALTH_DEFAULTS = {
  interval: 30 * SECOND,
  timeout: 30 * SECOND,
  retries: 3,
  startInterval: 5 * SECOND,
};
const MAX_LOG_ENTRIES = 5;
const MAX_OUTPUT = 4096;

/** The probe's argv, or undefined when there is no check (none configured, or ["NONE"]). */
export function probeArgv(h: HealthConfig | undefined): string[] | undefined {
  const test = h?.Test;
  if (!test?.length || test[0] === 'NONE') return undefined;
  if (test[0] === 'CMD-SHELL') return ['/bin/sh', '-c', test.slice(1).join(' ')];
  if (test[0] === 'CMD') return test.slice(1);
  return undefined;
}

/** Container healthcheck over the image's: fields the container leaves zero come from the image (as Docker). */
export function mergeHealthConfig(
  container: HealthConfig | null | undefined,
  image: HealthConfig | undefined,
): HealthConfig | undefined {
  if (!container && !image) return undefined;
  const c = container ?? {};
  const i = image ?? {};
  return {
    Test: c.Test?.length ? c.Test : i.Test,
    Interval: c.Interval || i.Interval,
    Timeout: c.Timeout || i.Timeout,
    Retries: c.Retries || i.Retries,
    StartPeriod: c.StartPeriod || i.StartPeriod,
    StartInterval: c.StartInterval || i.StartInterval,
  };
}

function formatSeconds(ns: number): string {
  return `${ns / SECOND}s`;
}

export interface HealthMonitorDeps {
  config: HealthConfig;
  /** When the container started (start period counts from here). */
  startedAt: number;
  initial?: HealthState;
  exec(argv: string[], timeoutMs: number): Promise<ExecResult>;
  onUpdate(state: HealthState): void;
  now?: () => number;
}

export class HealthMonitor {
  private timer?: NodeJS.Timeout;
  private stopped = false;
  readonly state: HealthState;
  private readonly argv: string[];

  constructor(private readonly d: HealthMonitorDeps) {
    this.argv = probeArgv(d.config)!;
    this.state = d.initial ?? { Status: 'starting', FailingStreak: 0, Log: [] };
  }

  private now(): number {
    return (this.d.now ?? Date.now)();
  }

  private inStartPeriod(at: number): boolean {
    return at - this.d.startedAt < (this.d.config.StartPeriod ?? 0) / 1e6;
  }

  private nextDelayMs(): number {
    const interval = this.d.config.Interval || HEALTH_DEFAULTS.interval;
    const startInterval = this.d.config.StartInterval || HEALTH_DEFAULTS.startInterval;
    const starting = this.state.Status === 'starting' && this.inStartPeriod(this.now());
    return (starting && this.d.config.StartPeriod ? Math.min(interval, startInterval) : interval) / 1e6;
  }

  start(): void {
    if (!this.argv) return;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), this.nextDelayMs());
  }

  private async probe(): Promise<void> {
    const timeout = this.d.config.Timeout || HEALTH_DEFAULTS.timeout;
    const start = this.now();
    let entry: HealthLogEntry;
    try {
      const r = await this.d.exec(this.argv, timeout / 1e6);
      const end = new Date(this.now()).toISOString();
      entry = r.timedOut
        ? {
            Start: new Date(start).toISOString(),
            End: end,
            ExitCode: -1,
            Output: `Health check exceeded timeout (${formatSeconds(timeout)})`,
          }
        : {
            Start: new Date(start).toISOString(),
            End: end,
            ExitCode: r.exitCode,
            Output: (r.stdout + r.stderr).slice(0, MAX_OUTPUT),
          };
    } catch (err) {
      const end = new Date(this.now()).toISOString();
      entry = {
        Start: new Date(start).toISOString(),
        End: end,
        ExitCode: -1,
        Output: (err as Error).message,
      };
    }
    if (this.stopped) return;
    this.record(entry, start);
    this.schedule();
  }

  private record(entry: HealthLogEntry, start: number): void {
    const s = this.state;
    if (entry.ExitCode === 0) {
      s.FailingStreak = 0;
      s.Status = 'healthy';
    } else if (!(s.Status === 'starting' && this.inStartPeriod(start))) {
      s.FailingStreak++;
      if (s.FailingStreak >= (this.d.config.Retries || HEALTH_DEFAULTS.retries)) s.Status = 'unhealthy';
    }
    s.Log.push(entry);
    if (s.Log.length > MAX_LOG_ENTRIES) s.Log.splice(0, s.Log.length - MAX_LOG_ENTRIES);
    this.d.onUpdate(s);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
