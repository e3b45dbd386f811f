// runtime/container: OCI bundles, runc under conmon, and container logs.
export { mergeCommand, mergeEnv, type ImageDefaults, type CommandOverrides } from './command.js';
export { resolveUser, parsePasswd, parseGroup, type ResolvedUser } from './user.js';
export {
  buildOciSpec,
  capabilitySet,
  DEFAULT_CAPABILITIES,
  type ContainerConfig,
  type OciMount,
} from './oci-spec.js';
export {
  createUnderConmon,
  runcStart,
  runcKill,
  runcDelete,
  runcState,
  runcList,
  exitCode,
  wasOomKilled,
  type RuncEnv,
  type RuncState,
  type CreateOptions,
} from './runc.js';
export {
  parseK8sLog,
  parseK8sLine,
  selectLines,
  frame,
  demux,
  type LogLine,
  type LogFilter,
} from './logs.js';
export { cgroupDirs, cgroupVersion, removeIdleCgroupParent } from './cgroups.js';
export { ContainerManager, NotModified, type ContainerManagerOptions, type WaitResult } from './manager.js';
export { readLogLines, readLogBacklog, followLog, logFiles } from './log-files.js';
export type { ContainerRecord, ContainerState, HealthState } from './state-files.js';
export type { CreateBody, HostConfig } from './create-request.js';
export { parseSignal } from './create-request.js';
export type { ExecResult } from './exec.js';
export { ExecSessions, type ExecConfig, type ExecInstance } from './exec-sessions.js';
export { checkFiles, filesDirOf, type ContainerFile } from './memory-files.js';
