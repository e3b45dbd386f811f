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
