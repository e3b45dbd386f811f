// A process run inside a running container with `runc exec` (health probes, `tsswarm exec`, `docker exec`).
// The exec'd process shares the container's namespaces, cgroup, capabilities and environment (runc starts from
// the container's process spec and adds ours).
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { launchStreaming } from '../process/index.js';
import { runcBinary, type RuncEnv } from './runc.js';

export interface ExecOptions {
  argv: string[];
  env?: string[];
  /** "uid[:gid]" already resolved, or undefined for the container's user. */
  user?: string;
  cwd?: string;
  timeoutMs?: number;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Called with the host pid of the exec'd process once runc wrote it. */
  onPid?: (pid: number) => void;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const OUTPUT_CAP = 64 * 1024;

export function runcExec(env: RuncEnv, id: string, o: ExecOptions): Promise<ExecResult> {
  const pidFile = join(tmpdir(), `tss-exec-${randomBytes(6).toString('hex')}.pid`);
  const args = ['--root', env.root, 'exec', '--pid-file', pidFile];
  for (const e of o.env ?? []) args.push('--env', e);
  if (o.cwd) args.push('--cwd', o.cwd);
  if (o.user) args.push('--user', o.user);
  args.push(id, ...o.argv);
  return new Promise((resolve, reject) => {
    const child = launchStreaming(runcBinary(env), args);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let pid = 0;
    const readPid = (): number => {
      if (pid) return pid;
      try {
        pid = Number(readFileSync(pidFile, 'utf8').trim()) || 0;
        if (pid) o.onPid?.(pid);
      } catch {
        // not written yet
      }
      return pid;
    };
    const pidPoll = setInterval(() => readPid() && clearInterval(pidPoll), 20);
    child.on('stdout', (c: Buffer) => {
      if (stdout.length < OUTPUT_CAP) stdout += c.toString();
      o.onStdout?.(c);
    });
    child.on('stderr', (c: Buffer) => {
      if (stderr.length < OUTPUT_CAP) stderr += c.toString();
      o.onStderr?.(c);
    });
    const timer =
      o.timeoutMs && o.timeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            const p = readPid();
            // The process inside first (runc only forwards catchable signals), then runc itself.
            if (p) {
              try {
                process.kill(p, 'SIGKILL');
              } catch {
                // already gone
              }
            }
            child.kill('SIGKILL');
          }, o.timeoutMs)
        : undefined;
    child.on('error', (err: Error) => {
      clearInterval(pidPoll);
      if (timer) clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearInterval(pidPoll);
      if (timer) clearTimeout(timer);
      rmSync(pidFile, { force: true });
      let exitCode = code ?? (signal ? 128 + 9 : 255);
      if (exitCode === 255 && /executable file not found|no such file or directory/.test(stderr))
        exitCode = 127;
      else if (exitCode === 255 && /permission denied/.test(stderr)) exitCode = 126;
      resolve({ exitCode, stdout, stderr, timedOut });
    });
  });
}
