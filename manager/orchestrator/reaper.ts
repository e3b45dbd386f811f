// The task reaper's choice (pure): which old tasks to delete so each slot keeps at most `limit` in history.
import { isTerminal, type Task } from '../../api/index.js';
import { groupSlots } from './slots.js';

/** Tasks that may be deleted now: desired REMOVE and stopped, or history beyond the per-slot limit. */
export function tasksToReap(tasks: Task[], limit: number): Task[] {
  const out: Task[] = [];
  for (const t of tasks) if (t.DesiredState === 'remove' && isTerminal(t.Status.State)) out.push(t);
  const removing = new Set(out.map((t) => t.ID));
  for (const slot of groupSlots(tasks).values()) {
    const old = slot.history.filter(
      (t) => !removing.has(t.ID) && isTerminal(t.Status.State) && t.DesiredState !== 'remove',
    );
    old.sort(
      (a, b) =>
        b.Status.Timestamp.localeCompare(a.Status.Timestamp) || b.CreatedAt.localeCompare(a.CreatedAt),
    );
    // A negative limit means unlimited history, as Swarm's TaskHistoryRetentionLimit.
    if (limit >= 0) out.push(...old.slice(limit));
  }
  return out;
}
