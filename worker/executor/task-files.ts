// The secrets and configs of a task as files in its container, as Docker's executor lays them out: a secret at
// /run/secrets/<File.Name> (or File.Name when absolute), a config at its target (relative names under /), each
// with File.UID/GID/Mode (default 0:0, 0444). Pure: the dependencies come from the dispatcher through the agent.
import { posix } from 'node:path';
import { InvalidArgument, NotFound, type FileTarget, type Task } from '../../api/index.js';
import type { ContainerFile } from '../../runtime/index.js';
import type { TaskDependencies } from './executor.js';

export const SECRETS_DIR = '/run/secrets';
export const DEFAULT_FILE_MODE = 0o444;

function owner(what: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^\d+$/.test(text)) throw new InvalidArgument(`invalid ${what} "${text}": must be a number`);
  return Number(text);
}

function file(
  base: string,
  name: string,
  f: FileTarget | undefined,
  data: string | undefined,
): ContainerFile {
  const fileName = f?.Name || name;
  return {
    target: fileName.startsWith('/') ? posix.normalize(fileName) : posix.join(base, fileName),
    data: Buffer.from(data ?? '', 'base64'),
    uid: owner('uid', f?.UID),
    gid: owner('gid', f?.GID),
    mode: f?.Mode ?? DEFAULT_FILE_MODE,
  };
}

/** The files of the task's secrets and configs; "not found" when the node was not given one it references. */
export function taskFiles(task: Task, deps: TaskDependencies): ContainerFile[] {
  const c = task.Spec.ContainerSpec;
  const out: ContainerFile[] = [];
  for (const ref of c?.Secrets ?? []) {
    const s = deps.secrets.get(ref.SecretID);
    if (!s) throw new NotFound(`secret ${ref.SecretName} (${ref.SecretID}) not found on this node`);
    out.push(file(SECRETS_DIR, ref.SecretName, ref.File, s.Spec.Data));
  }
  for (const ref of c?.Configs ?? []) {
    // A config with a runtime target (a credential spec) is no file.
    if (!ref.File) continue;
    const cfg = deps.configs.get(ref.ConfigID);
    if (!cfg) throw new NotFound(`config ${ref.ConfigName} (${ref.ConfigID}) not found on this node`);
    out.push(file('/', ref.ConfigName, ref.File, cfg.Spec.Data));
  }
  return out;
}
