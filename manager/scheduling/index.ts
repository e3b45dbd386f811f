// manager/scheduling: the leader's loop around the pure scheduler.
export { SchedulerLoop } from './scheduler-loop.js';
