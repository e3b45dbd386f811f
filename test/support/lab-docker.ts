// The stock docker CLI pointed at one lab host's socket, and a poll-until-true helper for cluster tests.
import { spawnSync } from 'node:child_process';
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

/** Polls `fn` until it returns something truthy, failing after `ms` with `what`. */
export async function eventually<T>(fn: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
