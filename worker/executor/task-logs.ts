// A node's part of a service/task log subscription: the log files of its containers of the selected tasks
// (found by their swarm labels, so finished tasks whose containers remain are included, as in Docker), filtered
// (stdout/stderr, since, tail per task) and, when following, tailed until the subscription is cancelled —
// containers of tasks that start later are picked up as they appear.
import type { LogMessage, LogOptions, LogSelector } from '../../manager/logs/index.js';
import {
  followLog,
  readLogBacklog,
  selectLines,
  type ContainerManager,
  type ContainerRecord,
  type LogLine,
} from '../../runtime/index.js';
import { LABEL } from './container-config.js';

export type TaskLogLine = Omit<LogMessage, 'nodeId'>;

/** Lines of the selected containers on this node; emits batches; resolves when done or aborted. */
export async function readTaskLogs(
  containers: ContainerManager,
  selector: LogSelector,
  options: LogOptions,
  emit: (lines: TaskLogLine[]) => void,
  signal: AbortSignal,
  pollMs = 250,
): Promise<void> {
  const seen = new Set<string>();
  const follows: Promise<void>[] = [];
  const filter = { stdout: options.stdout, stderr: options.stderr, since: options.since };
  const selected = (): ContainerRecord[] =>
    containers.list().filter((c) => {
      const l = c.Config.Labels ?? {};
      return (
        selector.taskIds.includes(l[LABEL.taskId] ?? '') ||
        selector.serviceIds.includes(l[LABEL.serviceId] ?? '')
      );
    });
  const take = (rec: ContainerRecord, tail: number | undefined): void => {
    seen.add(rec.Id);
    const labels = rec.Config.Labels ?? {};
    const toMessage = (l: LogLine): TaskLogLine => ({
      serviceId: labels[LABEL.serviceId] ?? '',
      taskId: labels[LABEL.taskId] ?? '',
      time: l.time,
      stream: l.stream,
      data: l.text,
    });
    let live: string;
    try {
      live = containers.logPath(rec.Id);
    } catch {
      return; // removed meanwhile
    }
    const backlog = readLogBacklog(live, rec.Log.maxFile);
    const lines = selectLines(backlog.lines, { ...filter, tail });
    if (lines.length > 0) emit(lines.map(toMessage));
    if (!options.follow) return;
    follows.push(
      followLog(
        live,
        backlog.liveBytes,
        (l) => {
          if (selectLines([l], filter).length === 1) emit([toMessage(l)]);
        },
        () => !containers.isRunning(rec.Id),
        signal,
      ).catch(() => undefined),
    );
  };
  for (const rec of selected()) take(rec, options.tail);
  if (!options.follow) return;
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const wake = (): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      const t = setTimeout(wake, pollMs);
      signal.addEventListener('abort', wake);
    });
    if (signal.aborted) break;
    // A task that started after the subscription: all of its lines are new.
    for (const rec of selected()) if (!seen.has(rec.Id)) take(rec, undefined);
  }
  await Promise.all(follows);
}
