// worker/: the node agent (dispatcher session and heartbeats; task execution comes with the services issue).
export { Agent, type AgentOptions } from './agent.js';
export * from './executor/index.js';
