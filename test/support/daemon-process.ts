// Starts `tsswarm daemon` as a child process (through tsx, so tests run the current sources) and stops it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import http from 'node:http';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, type TempDir } from './temp.js';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI_ENTRY = join(REPO_ROOT, 'cli', 'main.ts');

/** argv prefix that runs the tsswarm CLI from source. */
export function cliCommand(): string[] {
  return [process.execPath, '--import', 'tsx', CLI_ENTRY];
}

export interface DaemonProcess {
  child: ChildProcess;
  dir: TempDir;
  dataRoot: string;
  socket: string;
  host: string;
  logFile: string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export function ping(socket: string): Promise<http.IncomingMessage & { body: string }> {
  return request(socket, 'GET', '/_ping');
}

export function request(
  socket: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<http.IncomingMessage & { body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Object.assign(res, { body: Buffer.concat(chunks).toString('utf8') })));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function waitFor<T>(
  fn: () => Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
  );
}

export async function startDaemon(
  opts: { dataRoot?: string; socket?: string; args?: string[] } = {},
): Promise<DaemonProcess> {
  const dir = tempDir();
  const dataRoot = opts.dataRoot ?? join(dir.path, 'root');
  const socket = opts.socket ?? join(dir.path, 'api.sock');
  const logFile = join(dir.path, 'daemon.log');
  const fd = openSync(logFile, 'a');
  const [cmd, ...pre] = cliCommand();
  const child = spawn(
    cmd!,
    [...pre, 'daemon', '--data-root', dataRoot, '--host', `unix://${socket}`, ...(opts.args ?? [])],
    {
      stdio: ['ignore', fd, fd],
    },
  );
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const proc: DaemonProcess = {
    child,
    dir,
    dataRoot,
    socket,
    host: `unix://${socket}`,
    logFile,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const code = await exited;
      dir.remove();
      return code;
    },
  };
  try {
    await waitFor(async () => (await ping(socket)).statusCode === 200, 20_000, `daemon on ${socket}`);
  } catch (err) {
    await proc.stop('SIGKILL');
    throw err;
  }
  return proc;
}

/** Runs the stock docker CLI against a test daemon's socket, with a private config directory. */
export function dockerAgainst(d: DaemonProcess, args: string[], timeoutMs = 60_000) {
  return spawnSync('docker', args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, DOCKER_HOST: d.host, DOCKER_CONFIG: d.dir.path },
  });
}
