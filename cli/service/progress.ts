// Convergence progress after create/update/scale/rollback, drawn like the docker CLI's (per-slot bars, verify).
import { TASK_STATES, formatDuration, type Service, type Task, type TaskState } from '../../api/index.js';
import type { ApiClient } from '../client.js';

const BAR_WIDTH = 50;
const RUNNING_RANK = TASK_STATES.indexOf('running');

function bar(state: TaskState): string {
  const rank = Math.min(TASK_STATES.indexOf(state), RUNNING_RANK);
  const done = Math.round((rank / RUNNING_RANK) * BAR_WIDTH);
  return `[${'='.repeat(Math.max(0, done - 1))}${done > 0 ? '>' : ''}${' '.repeat(BAR_WIDTH - done)}]`;
}

interface Slot {
  key: string;
  state: TaskState;
  err?: string;
}

/** The newest task per slot (replicated) or per node (global) among those meant to run. */
export function currentSlots(service: Service, tasks: Task[]): Slot[] {
  const bySlot = new Map<string, Task>();
  for (const t of tasks) {
    if (t.DesiredState !== 'running' && t.DesiredState !== 'complete') continue;
    const key = t.Slot !== undefined ? String(t.Slot) : (t.NodeID ?? t.ID);
    const prev = bySlot.get(key);
    if (!prev || t.CreatedAt > prev.CreatedAt) bySlot.set(key, t);
  }
  const slots = [...bySlot.entries()].map(([key, t]) => ({ key, state: t.Status.State, err: t.Status.Err }));
  const replicas = service.Spec.Mode?.Replicated?.Replicas;
  return slots
    .sort((a, b) => Number(a.key) - Number(b.key) || a.key.localeCompare(b.key))
    .slice(0, replicas ?? slots.length);
}

export interface ProgressOptions {
  quiet?: boolean;
  /** What "done" means: all slots running (create/scale) or an UpdateStatus state. */
  until: 'running' | 'updated' | 'rolledBack';
  out?: NodeJS.WriteStream;
  pollMs?: number;
}

export async function waitForConvergence(
  client: ApiClient,
  serviceId: string,
  opts: ProgressOptions,
): Promise<void> {
  const out = opts.out ?? process.stdout;
  const tty = out.isTTY === true && !opts.quiet;
  let drawn = 0;
  let lastText = '';
  let stableSince: number | undefined;
  const print = (lines: string[]) => {
    if (opts.quiet) return;
    const text = lines.join('\n');
    if (text === lastText) return;
    lastText = text;
    if (tty && drawn > 0) out.write(`\x1b[${drawn}A\x1b[J`);
    out.write(text + '\n');
    drawn = lines.length;
  };
  const filters = encodeURIComponent(
    JSON.stringify({ service: { [serviceId]: true }, '_up-to-date': { true: true } }),
  );
  for (;;) {
    const service = await client.get<Service>(`/services/${serviceId}`);
    const tasks = await client.get<Task[]>(`/tasks?filters=${filters}`);
    const slots = currentSlots(service, tasks);
    const desired = service.Spec.Mode?.Replicated?.Replicas ?? slots.length;
    const running = slots.filter((s) => s.state === 'running' || s.state === 'complete').length;
    const status = service.UpdateStatus?.State;
    if (status === 'paused' || status === 'rollback_paused') {
      print([`overall progress: ${running} out of ${desired} tasks`]);
      throw new Error(`service ${service.Spec.Name}: ${service.UpdateStatus?.Message ?? 'update paused'}`);
    }
    const lines = [`overall progress: ${running} out of ${desired} tasks `];
    for (const [i, s] of slots.entries()) {
      const label = service.Spec.Mode?.Replicated ? `${i + 1}/${desired}` : s.key.slice(0, 12);
      lines.push(`${label}: ${s.state.padEnd(9)} ${s.err ? s.err : bar(s.state)} `);
    }
    const updateDone =
      opts.until === 'running' ||
      (opts.until === 'updated' && (status === undefined || status === 'completed')) ||
      (opts.until === 'rolledBack' && status === 'rollback_completed');
    const converged = running === desired && updateDone;
    if (converged) {
      const monitorNs = service.Spec.UpdateConfig?.Monitor ?? 5e9;
      stableSince ??= Date.now();
      const left = Math.ceil((monitorNs / 1e6 - (Date.now() - stableSince)) / 1000);
      if (left <= 0) {
        print([...lines, 'verify: Service converged ']);
        return;
      }
      print([
        ...lines,
        `verify: Waiting ${left} seconds to verify that tasks are stable (${formatDuration(monitorNs)} monitor)...`,
      ]);
    } else {
      stableSince = undefined;
      print(lines);
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
  }
}
