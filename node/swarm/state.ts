// This node's swarm membership on disk: <data-root>/swarm/state.json (and the certificates beside it).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../../pki/index.js';

export interface SwarmNodeState {
  nodeId: string;
  clusterId: string;
  role: 'manager' | 'worker';
  listenAddr: string;
  advertiseAddr: string;
  managers: { id: string; addr: string }[];
}

export const stateFile = (swarmDir: string): string => join(swarmDir, 'state.json');
export const certDir = (swarmDir: string): string => join(swarmDir, 'certificates');

export function loadSwarmState(swarmDir: string): SwarmNodeState | undefined {
  const f = stateFile(swarmDir);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as SwarmNodeState) : undefined;
}

export function saveSwarmState(swarmDir: string, s: SwarmNodeState): void {
  writeFileAtomic(stateFile(swarmDir), JSON.stringify(s, null, 2));
}

/** Forgets the swarm: state, certificates and Raft data. */
export function clearSwarmState(swarmDir: string): void {
  for (const p of ['state.json', 'certificates', 'raft'])
    rmSync(join(swarmDir, p), { recursive: true, force: true });
}
