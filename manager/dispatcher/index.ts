export {
  Dispatcher,
  DISPATCHER_SERVICE,
  SESSION,
  HEARTBEAT,
  UPDATE_TASK_STATUS,
  PUBLISH_LOGS,
  type SessionRequest,
  type SessionMessage,
  type HeartbeatResponse,
} from './dispatcher.js';
export { AssignmentTracker, forNode, isAssignedTo, type Assignments } from './assignments.js';
export { type StatusUpdate } from './status-updates.js';
export {
  dependenciesOf,
  dependencyChanges,
  holdsDependencies,
  type DependencyIds,
  type DependencyLookup,
} from './dependencies.js';
