// A command run to its end from the launcher shell, with its output collected: execFile's contract.
import type { LaunchOptions } from './child.js';
import { launch } from './shell-launcher.js';

export interface RunOptions extends Omit<LaunchOptions, 'detached' | 'stdout'> {
  /** Output kept per stream; more is cut off (default 8 MiB). */
  maxBuffer?: number;
  /** SIGKILL after this long; the result then says so. */
  timeoutMs?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Why a command failed: its exit code (or the spawn error's code, e.g. 'ENOENT'), signal and output. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly code: number | string | null,
    readonly signal: NodeJS.Signals | null,
    readonly stdout: string,
    readonly stderr: string,
    readonly timedOut = false,
  ) {
    super(message);
  }
}

/** Resolves with the output of a zero exit; rejects with a RunError otherwise. */
export function run(file: string, args: string[], o: RunOptions = {}): Promise<RunResult> {
  const cap = o.maxBuffer ?? 8 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = launch(file, args, o);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let timedOut = false;
    child.on('stdout', (b: Buffer) => {
      if (outLen < cap) out.push(b.subarray(0, cap - outLen));
      outLen += b.length;
    });
    child.on('stderr', (b: Buffer) => {
      if (errLen < cap) err.push(b.subarray(0, cap - errLen));
      errLen += b.length;
    });
    const timer =
      o.timeoutMs && o.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            child.kill('SIGKILL');
          }, o.timeoutMs)
        : undefined;
    const cmd = [file, ...args].join(' ');
    child.on('error', (e: Error & { code?: string }) => {
      if (timer) clearTimeout(timer);
      reject(new RunError(`${cmd}: ${e.message}`, e.code ?? null, null, '', ''));
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      if (timer) clearTimeout(timer);
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0 && !timedOut) resolve({ stdout, stderr });
      else {
        const why = timedOut
          ? `timed out after ${o.timeoutMs} ms`
          : stderr.trim() || `exit code ${code ?? signal}`;
        reject(new RunError(`${cmd}: ${why}`, code, signal, stdout, stderr, timedOut));
      }
    });
  });
}
