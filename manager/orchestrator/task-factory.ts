// New tasks for a service slot (replicated) or node (global), as swarmkit's orchestrator creates them.
import { newId, type Service, type Task } from '../../api/index.js';

export interface TaskOrigin {
  slot?: number;
  nodeId?: string;
}

export function newTask(service: Service, origin: TaskOrigin, now: string, id = newId()): Task {
  const task: Task = {
    ID: id,
    Version: { Index: 0 },
    CreatedAt: now,
    UpdatedAt: now,
    Labels: {},
    Spec: structuredClone(service.Spec.TaskTemplate),
    ServiceID: service.ID,
    Status: { Timestamp: now, State: 'new', Message: 'created' },
    DesiredState: 'running',
  };
  // What the task was made for, so a change of published ports or endpoint mode rolls the tasks (swarmkit too).
  task.Endpoint = { Spec: structuredClone(service.Spec.EndpointSpec ?? { Mode: 'vip' }) };
  if (origin.slot !== undefined) task.Slot = origin.slot;
  if (origin.nodeId) task.NodeID = origin.nodeId;
  if (service.JobStatus) task.JobIteration = { ...service.JobStatus.JobIteration };
  return task;
}
