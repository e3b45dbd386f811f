// A swarm on a lab: hosts added, daemons started, the first manager inits (with the given heartbeat), the
// others join through the stock docker CLI, and busybox:local is imported where tasks will run.
import type { Lab } from '../../deploy/lab/index.js';
import { importBusyboxIntoDaemon } from './busybox-image.js';
import { dockerOn } from './lab-docker.js';

export interface LabSwarmOptions {
  managers: string[];
  workers: string[];
  /** `--dispatcher-heartbeat` (default 1s). */
  heartbeat?: string;
  /** Hosts that get busybox:local (default every host). */
  busyboxOn?: string[];
  /** More `swarm init` flags (e.g. `--default-addr-pool 198.19.0.0/17`). */
  initArgs?: string[];
}

function docker(lab: Lab, host: string, args: string[]): string {
  const r = dockerOn(lab, host, args);
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')} on ${host}: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

export async function startLabSwarm(lab: Lab, o: LabSwarmOptions): Promise<void> {
  const hosts = [...o.managers, ...o.workers];
  for (const h of hosts) await lab.addHost(h);
  await Promise.all(hosts.map((h) => lab.startDaemon(h)));
  const [first, ...others] = o.managers;
  const addr = lab.host(first!).addr;
  docker(lab, first!, [
    'swarm',
    'init',
    '--advertise-addr',
    addr,
    '--dispatcher-heartbeat',
    o.heartbeat ?? '1s',
    ...(o.initArgs ?? []),
  ]);
  const tokens = {
    manager: docker(lab, first!, ['swarm', 'join-token', '-q', 'manager']),
    worker: docker(lab, first!, ['swarm', 'join-token', '-q', 'worker']),
  };
  for (const m of others) docker(lab, m, ['swarm', 'join', '--token', tokens.manager, `${addr}:2377`]);
  for (const w of o.workers) docker(lab, w, ['swarm', 'join', '--token', tokens.worker, `${addr}:2377`]);
  await Promise.all((o.busyboxOn ?? hosts).map((h) => importBusyboxIntoDaemon(lab.host(h).socket)));
}
