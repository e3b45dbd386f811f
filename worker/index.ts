// worker/: the node agent (dispatcher session, heartbeats, task status reports) and the executors that run its tasks.
export { Agent, type AgentOptions } from './agent.js';
export * from './executor/index.js';
