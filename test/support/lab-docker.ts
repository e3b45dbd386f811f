// The stock docker CLI pointed at one lab host's socket, and a poll-until-true helper for cluster tests.
import { spawnSync } from 'node:child_process';
import { request } from 'node:http';
import type { Lab } from '../../deploy/lab/index.js';

export function dockerOn(lab: Lab, host: string, args: string[]) {
  return spawnSync('docker', args, {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      DOCKER_HOST: `unix://${lab.host(host).socket}`,
      DOCKER_CONFIG: lab.host(host).dir,
    },
  });
}

/** IDs of the running containers of swarm service `service` on `host`, as `docker ps` lists them. */
export function serviceContainers(lab: Lab, host: string, service: string): string[] {
  const out = dockerOn(lab, host, [
    'ps',
    '--filter',
    `label=com.docker.swarm.service.name=${service}`,
    '--format',
    '{{.ID}}',
  ]).stdout.trim();
  return out ? out.split('\n') : [];
}

type Maybe<T> = T | undefined | false;

/** Polls `fn` (sync or async) until it gives something truthy, failing after `ms` with `what`. */
export async function eventually<T>(
  fn: () => Maybe<T> | Promise<Maybe<T>>,
  ms: number,
  what: string,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The host among `alive` that a live manager's `node ls` names as leader. */
export function leaderOf(lab: Lab, alive: string[]): string | undefined {
  for (const h of alive) {
    const out = dockerOn(lab, h, ['node', 'ls', '--format', '{{.Hostname}} {{.ManagerStatus}}']).stdout;
    const m = /^(\S+) Leader$/m.exec(out);
    if (m && alive.includes(m[1]!)) return m[1];
  }
  return undefined;
}

/** One API GET on a lab host's socket (for what the docker CLI cannot ask, such as `?linearizable=1`). */
export function apiGet(lab: Lab, host: string, path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: lab.host(host).socket, path, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}
