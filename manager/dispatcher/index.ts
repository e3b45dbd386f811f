export {
  Dispatcher,
  DISPATCHER_SERVICE,
  SESSION,
  HEARTBEAT,
  type SessionRequest,
  type SessionMessage,
} from './dispatcher.js';
