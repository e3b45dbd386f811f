// Whether a process still runs. A zombie does not: conmon is started detached by the launcher shell, which reaps
// its children only when it next runs a command, so an ended conmon can sit as a zombie for a while.
import { readFileSync } from 'node:fs';

export function processAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state follows the command name, which is in parentheses and may itself hold ") ".
  return stat[stat.lastIndexOf(')') + 2] !== 'Z';
}
