// What the launchers hand back: a child process known by its events, wherever it was started from.
import { EventEmitter } from 'node:events';

export interface LaunchOptions {
  cwd?: string;
  /** Added to the daemon's environment for this child. */
  env?: Record<string, string>;
  /**
   * A daemon of its own (conmon): it outlives us and its end is not reported ('spawn' only, never 'close'); its
   * stdout goes to /dev/null and its stderr to `stderrFile` (default /dev/null).
   */
  detached?: boolean;
  /** Where a detached child's stderr goes (created or truncated). */
  stderrFile?: string;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  input?: string | Uint8Array;
  /** Keep stdout (default true); false sends it to /dev/null. */
  stdout?: boolean;
}

/**
 * A launched child. Events: 'spawn' (pid), 'stdout' and 'stderr' (Buffer), 'error' (Error with `code`, e.g.
 * ENOENT: it never ran), 'close' (exit code or null, signal or null).
 */
export class LaunchedChild extends EventEmitter {
  pid?: number;
  /** Signals sent through kill(): an exit status of 128+n is then reported as that signal. */
  readonly sent = new Set<NodeJS.Signals>();

  constructor(private readonly killer: (signal: NodeJS.Signals) => void) {
    super();
  }

  kill(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.sent.add(signal);
    this.killer(signal);
  }

  /** Emits 'error' only to listeners that asked for it: a launch nobody watches must not crash the daemon. */
  fail(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }
}
