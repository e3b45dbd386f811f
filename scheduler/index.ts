// scheduler/: pure task placement with Swarm's filters, ranking and spread preferences.
export {
  Scheduler,
  type Assignment,
  type ScheduleResult,
  type SchedulerOptions,
  type Unplaced,
} from './scheduler.js';
export { parseConstraints, nodeMatches, type Constraint } from './constraints.js';
