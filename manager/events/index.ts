// manager/events: Docker's event stream of swarm objects — store changes mapped to Docker event messages,
// event filters, the node's event hub (history and subscribers) and the GET /events route.
export { eventsOfChange, type EventMessage, type EventType, type TimedEvent } from './message.js';
export { EVENT_FILTERS, eventMatches, parseEventFilters, parseEventTime, checkWindow } from './filter.js';
export { EventsHub, DEFAULT_HISTORY, type EventsHubOptions, type SubscribeOptions } from './hub.js';
export { eventRoutes } from './route.js';
