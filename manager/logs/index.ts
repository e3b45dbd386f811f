// manager/logs: service and task logs gathered from the agents (broker on the leader, forwarding on followers).
export { LogBroker, type LogBrokerOptions } from './broker.js';
export { LogService, LOGS_SERVICE, addLogService } from './forwarding.js';
export {
  detailsOf,
  fixedNanoUTC,
  logFrame,
  parseLogQuery,
  parseSince,
  type LogMessage,
  type LogOptions,
  type LogOutput,
  type LogSelector,
  type LogSubscription,
  type PublishLogsMessage,
} from './messages.js';
