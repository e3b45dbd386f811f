// Listening addresses of the HTTP API (`--host`): UNIX sockets, refused when another daemon serves them.
import { connect } from 'node:net';
import { existsSync, mkdirSync, unlinkSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { FailedPrecondition, InvalidArgument } from '../api/index.js';

export const DEFAULT_HOST = 'unix:///run/tsswarm/tsswarm.sock';

export function socketPathOf(host: string): string {
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (!path.startsWith('/'))
      throw new InvalidArgument(`invalid --host "${host}": the socket path must be absolute`);
    return path;
  }
  if (host.startsWith('tcp://')) {
    throw new InvalidArgument(
      `--host "${host}": tcp listeners need --tlsverify material, which this daemon does not serve yet`,
    );
  }
  throw new InvalidArgument(`invalid --host "${host}": expected unix:///path/to.sock`);
}

function isLive(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Makes `path` ready to listen on: parent directory created, a stale socket removed, a live one refused. */
export async function prepareSocket(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  if (!existsSync(path)) return;
  if (await isLive(path))
    throw new FailedPrecondition(`API socket ${path} is already served by a running daemon`);
  unlinkSync(path);
}

export function restrictSocket(path: string): void {
  chmodSync(path, 0o660);
}

export function removeSocket(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already removed.
  }
}
