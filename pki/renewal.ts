// Certificate renewal: when to renew (pure), and a timer that renews with retry and backoff.
import { createLogger, errorMessage, type Logger } from '../api/index.js';

/** Renew at a random point between 50 % and 80 % of the validity period, as Swarm does. */
export function renewalTime(notBefore: number, notAfter: number, random: () => number = Math.random): number {
  const life = notAfter - notBefore;
  return notBefore + life * (0.5 + 0.3 * random());
}

/** Wait before retry number `failures` (1-based): doubles from `minMs`, capped at `maxMs`. */
export function retryBackoff(failures: number, minMs: number, maxMs: number): number {
  return Math.min(maxMs, minMs * 2 ** (failures - 1));
}

export interface RenewerOptions {
  /** Current certificate validity. */
  validity: () => { notBefore: number; notAfter: number };
  /** Obtains and installs a new certificate; rejects on failure. */
  renew: () => Promise<void>;
  random?: () => number;
  now?: () => number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  log?: Logger;
}

export class CertificateRenewer {
  private timer?: NodeJS.Timeout;
  private running = false;
  private failures = 0;
  private readonly log: Logger;

  constructor(private readonly o: RenewerOptions) {
    this.log = o.log ?? createLogger({ component: 'cert-renewer' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs?: number): void {
    if (!this.running) return;
    const now = this.o.now?.() ?? Date.now();
    const { notBefore, notAfter } = this.o.validity();
    const wait = delayMs ?? Math.max(0, renewalTime(notBefore, notAfter, this.o.random) - now);
    this.timer = setTimeout(() => void this.attempt(), Math.min(wait, 2 ** 31 - 1));
    this.timer.unref();
  }

  private async attempt(): Promise<void> {
    try {
      await this.o.renew();
      this.failures = 0;
      this.schedule();
    } catch (err) {
      if (!this.running) return; // stopped while a renewal was in flight
      this.failures++;
      const backoff = retryBackoff(this.failures, this.o.minBackoffMs ?? 500, this.o.maxBackoffMs ?? 60_000);
      this.log.warn('certificate renewal failed, retrying', { err: errorMessage(err), inMs: backoff });
      this.schedule(backoff);
    }
  }
}
