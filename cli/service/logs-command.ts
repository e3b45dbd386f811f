// `tsswarm service logs [-f] [--tail N] [--since T] [-t] [--raw] [--no-task-ids] [--no-trunc] SERVICE|TASK`:
// the logs of a service's (or a task's) containers on every node, printed as the docker CLI prints them.
import type { Command } from 'commander';
import type { Node, Service, Task } from '../../api/index.js';
import { ApiError, type ApiClient } from '../client.js';
import { CliError, clientOf } from '../context.js';
import { FrameReader, formatLogLine, sinceParameter, splitLogPayload, taskLabel } from './log-lines.js';

interface LogsFlags {
  follow?: boolean;
  tail: string;
  since?: string;
  timestamps?: boolean;
  raw?: boolean;
  taskIds: boolean;
  trunc: boolean;
  details?: boolean;
}

async function target(client: ApiClient, ref: string): Promise<{ path: string; service?: Service }> {
  const ref64 = encodeURIComponent(ref);
  try {
    const service = await client.get<Service>(`/services/${ref64}`);
    return { path: `/services/${service.ID}/logs`, service };
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 404) throw err;
  }
  try {
    const task = await client.get<Task>(`/tasks/${ref64}`);
    const service = await client.get<Service>(`/services/${task.ServiceID}`).catch(() => undefined);
    return { path: `/tasks/${task.ID}/logs`, service };
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) throw new CliError(`no such task or service: ${ref}`);
    throw err;
  }
}

/** Looks tasks and nodes up once each and builds their labels. */
function labeller(client: ApiClient, service: Service | undefined, f: LogsFlags) {
  const cache = new Map<string, Promise<string>>();
  const padding = String(service?.Spec.Mode?.Replicated?.Replicas ?? 1).length;
  return (taskId: string, nodeId: string, serviceId: string): Promise<string> => {
    const key = `${taskId}/${nodeId}`;
    let label = cache.get(key);
    if (!label) {
      label = (async () => {
        const [task, node, svc] = await Promise.all([
          client.get<Task>(`/tasks/${taskId}`).catch(() => undefined),
          client.get<Node>(`/nodes/${nodeId}`).catch(() => undefined),
          service?.ID === serviceId
            ? service
            : client.get<Service>(`/services/${serviceId}`).catch(() => undefined),
        ]);
        return taskLabel({
          serviceName: svc?.Spec.Name ?? serviceId,
          slot: task?.Slot,
          nodeId: task?.NodeID ?? nodeId,
          taskId,
          nodeName: node?.Description?.Hostname ?? nodeId,
          padding,
          noTaskIds: !f.taskIds,
          noTrunc: !f.trunc,
        });
      })();
      cache.set(key, label);
    }
    return label;
  };
}

async function serviceLogs(ref: string, f: LogsFlags, cmd: Command): Promise<void> {
  const client = clientOf(cmd);
  const { path, service } = await target(client, ref);
  const tty = !!service?.Spec.TaskTemplate.ContainerSpec?.TTY;
  const res = await client.raw('GET', path, {
    query: {
      stdout: 1,
      stderr: 1,
      follow: f.follow ? 1 : undefined,
      tail: f.tail,
      since: f.since ? sinceParameter(f.since) : undefined,
      timestamps: f.timestamps ? 1 : undefined,
      details: f.raw ? (f.details ? 1 : undefined) : 1,
    },
  });
  const stop = (): void => void res.destroy();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (tty) {
    for await (const chunk of res as AsyncIterable<Buffer>) process.stdout.write(chunk);
    return;
  }
  const label = labeller(client, service, f);
  // Lines are printed in arrival order: a label lookup is awaited in turn, never overtaking.
  let printing = Promise.resolve();
  const reader = new FrameReader((stream, payload) => {
    const out = stream === 2 ? process.stderr : process.stdout;
    if (f.raw) return void out.write(payload);
    const text = payload.toString('utf8');
    printing = printing.then(async () => {
      const line = splitLogPayload(text, !!f.timestamps);
      const l = await label(
        line.details.get('com.docker.swarm.task.id') ?? '',
        line.details.get('com.docker.swarm.node.id') ?? '',
        line.details.get('com.docker.swarm.service.id') ?? '',
      );
      out.write(formatLogLine(l, line));
    });
  });
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) reader.push(chunk);
  } catch (err) {
    if (!res.destroyed) throw err;
  }
  await printing;
}

export function registerServiceLogs(service: Command): void {
  service
    .command('logs')
    .description('Fetch the logs of a service or task')
    .argument('<service|task>')
    .option('-f, --follow', 'Follow log output')
    .option('-n, --tail <n>', 'Number of lines to show from the end of the logs (per task)', 'all')
    .option('--since <time>', 'Show logs since a timestamp (unix seconds or RFC 3339) or relative (e.g. 42m)')
    .option('-t, --timestamps', 'Show timestamps')
    .option('--raw', 'Do not neatly format logs')
    .option('--details', 'Show extra details provided to logs')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .action((ref: string, f: LogsFlags, cmd: Command) => serviceLogs(ref, f, cmd));
}
