// worker/executor: running the tasks assigned to this node (the runtime-backed executor, and a fake one for
// control-plane tests).
export type { Executor, TaskDependencies, TaskStatusReport } from './executor.js';
export { taskFiles, SECRETS_DIR } from './task-files.js';
export { RuntimeExecutor, type RuntimeExecutorOptions } from './runtime-executor.js';
export { FakeExecutor, type FakeExecutorOptions, type FakeTask } from './fake-executor.js';
export {
  containerName,
  containerLabels,
  createBody,
  serviceNameOf,
  stopGraceSeconds,
  LABEL as TASK_LABEL,
  DEFAULT_STOP_GRACE_NS,
} from './container-config.js';
export {
  nextStep,
  failureState,
  exitOutcome,
  nonZeroExit,
  MESSAGES as TASK_MESSAGES,
  type Step,
} from './task-steps.js';
