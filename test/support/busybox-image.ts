// busybox:local for image tests: a rootfs tar built once per test process from Debian's busybox-static,
// imported into a store (in process) or a daemon (over the Engine API, like `docker import`).
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { ImageStore } from '../../runtime/image/index.js';
import { busyboxRootfsTar } from '../../deploy/busybox-rootfs.js';
import { tempDir, type TempDir } from './temp.js';

let cache: { dir: TempDir; tar: string } | undefined;

/** Path of busybox.tar (rootfs with /bin/busybox, applet links, /etc/passwd+group, /tmp /proc /sys /dev). */
export function busyboxTar(): string {
  if (cache && existsSync(cache.tar)) return cache.tar;
  const dir = tempDir();
  process.once('exit', () => dir.remove());
  const tar = busyboxRootfsTar(dir.path);
  cache = { dir, tar };
  return tar;
}

export function importBusybox(store: ImageStore, ref = 'busybox:local'): Promise<string> {
  return store.importRootfs(readFileSync(busyboxTar()), ref);
}

/** A request with a binary body over the daemon's UNIX socket. */
export function requestRaw(
  socket: string,
  method: string,
  path: string,
  body?: Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Imports through the daemon's POST /images/create?fromSrc=-; returns the image id. */
export async function importBusyboxIntoDaemon(
  socket: string,
  repo = 'busybox',
  tag = 'local',
): Promise<string> {
  const q = `fromSrc=-&repo=${encodeURIComponent(repo)}&tag=${encodeURIComponent(tag)}`;
  const res = await requestRaw(socket, 'POST', `/images/create?${q}`, readFileSync(busyboxTar()), {
    'content-type': 'application/x-tar',
  });
  if (res.status !== 200) throw new Error(`import failed: ${res.status} ${res.body}`);
  const inspect = await requestRaw(socket, 'GET', `/images/${encodeURIComponent(`${repo}:${tag}`)}/json`);
  return (JSON.parse(inspect.body) as { Id: string }).Id;
}
