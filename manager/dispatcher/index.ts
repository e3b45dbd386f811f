export {
  Dispatcher,
  DISPATCHER_SERVICE,
  SESSION,
  HEARTBEAT,
  type SessionRequest,
  type SessionMessage,
  type HeartbeatResponse,
} from './dispatcher.js';
