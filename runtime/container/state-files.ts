// A container's record on disk: <data-root>/containers/<id>/container.json, rewritten whole (temp file + rename)
// on every change, so a daemon that restarts finds each container's last known state and spec.
import { readdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HealthConfig } from '../../api/index.js';
import type { ContainerConfigBody, HostConfig, LogOptions } from './create-request.js';
import type { MountPoint } from './mounts.js';

export type ContainerStatus =
  'created' | 'running' | 'exited' | 'removing' | 'dead' | 'restarting' | 'paused';
export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';

export interface HealthLogEntry {
  Start: string;
  End: string;
  ExitCode: number;
  Output: string;
}

export interface HealthState {
  Status: HealthStatus;
  FailingStreak: number;
  Log: HealthLogEntry[];
}

export interface ContainerState {
  Status: ContainerStatus;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
  Health?: HealthState;
}

/** The container's Config as inspect shows it: the create body merged with the image's defaults. */
export interface StoredConfig extends ContainerConfigBody {
  Hostname: string;
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  Image: string;
  Labels: Record<string, string>;
  WorkingDir: string;
  User: string;
  Healthcheck?: HealthConfig;
}

export interface ContainerRecord {
  Id: string;
  Name: string;
  Created: string;
  ImageID: string;
  Path: string;
  Args: string[];
  Config: StoredConfig;
  HostConfig: HostConfig;
  Mounts: MountPoint[];
  State: ContainerState;
  RestartCount: number;
  /** The resolved log options (max-size, max-file). */
  Log: LogOptions;
  /** "none" or "host". */
  Network: 'none' | 'host';
  /** The namespace the container joined (made by the overlay network code), when it has one. */
  NetnsPath?: string;
  /** Volume directories created for this container (kept on remove, as Docker keeps named volumes). */
  Volumes: string[];
}

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export function newState(): ContainerState {
  return {
    Status: 'created',
    Running: false,
    Paused: false,
    Restarting: false,
    OOMKilled: false,
    Dead: false,
    Pid: 0,
    ExitCode: 0,
    Error: '',
    StartedAt: ZERO_TIME,
    FinishedAt: ZERO_TIME,
  };
}

const FILE = 'container.json';

/**
 * Saves the record. Temp file + rename keeps it whole across a daemon crash; it is not fsynced (a power loss
 * takes the containers with it, and a restarted daemon reconciles every record with runc and conmon's files).
 */
export function saveRecord(dir: string, rec: ContainerRecord): void {
  const tmp = join(dir, `${FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(rec));
  renameSync(tmp, join(dir, FILE));
}

/** Every container record under `containersDir`; directories without a record (a create that died) are listed apart. */
export function loadRecords(containersDir: string): { records: ContainerRecord[]; orphans: string[] } {
  const records: ContainerRecord[] = [];
  const orphans: string[] = [];
  if (!existsSync(containersDir)) return { records, orphans };
  for (const name of readdirSync(containersDir)) {
    if (!/^[a-f0-9]{64}$/.test(name)) continue;
    try {
      records.push(JSON.parse(readFileSync(join(containersDir, name, FILE), 'utf8')) as ContainerRecord);
    } catch {
      orphans.push(name);
    }
  }
  return { records, orphans };
}
