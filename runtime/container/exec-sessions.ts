// Docker's two-step exec (create an exec instance, then start it) over ContainerManager.exec. Instances live in
// memory (as dockerd's do) and are forgotten a while after they finish.
import { randomBytes } from 'node:crypto';
import { Conflict, InvalidArgument, NotFound } from '../../api/index.js';
import type { ContainerManager } from './manager.js';

export interface ExecConfig {
  Cmd?: string[] | null;
  Env?: string[] | null;
  User?: string;
  WorkingDir?: string;
  Tty?: boolean;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Privileged?: boolean;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  started: boolean;
  exitCode: number | null;
  pid: number;
}

const KEEP_FINISHED_MS = 5 * 60_000;

export class ExecSessions {
  private readonly sessions = new Map<string, ExecInstance>();

  constructor(private readonly containers: ContainerManager) {}

  create(containerRef: string, config: ExecConfig): string {
    const rec = this.containers.get(containerRef);
    if (!config?.Cmd?.length) throw new InvalidArgument('No exec command specified');
    if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
    if (config.Privileged) throw new InvalidArgument('privileged exec is not supported');
    const id = randomBytes(32).toString('hex');
    this.sessions.set(id, {
      id,
      containerId: rec.Id,
      config,
      running: false,
      started: false,
      exitCode: null,
      pid: 0,
    });
    return id;
  }

  get(id: string): ExecInstance {
    const s = this.sessions.get(id);
    if (!s) throw new NotFound(`No such exec instance: ${id}`);
    return s;
  }

  idsOf(containerId: string): string[] {
    return [...this.sessions.values()]
      .filter((s) => s.containerId === containerId && s.running)
      .map((s) => s.id);
  }

  /** Checks that the instance can start (before a caller commits to streaming). */
  checkStartable(id: string): ExecInstance {
    const s = this.get(id);
    if (s.started) throw new Conflict(`Exec command ${id} has already run`);
    const rec = this.containers.get(s.containerId);
    if (!rec.State.Running) throw new Conflict(`Container ${rec.Id} is not running`);
    return s;
  }

  /** Runs the instance to its end; output goes to the callbacks. Resolves with the exit code. */
  async start(
    id: string,
    out: { stdout?: (b: Buffer) => void; stderr?: (b: Buffer) => void } = {},
  ): Promise<number> {
    const s = this.checkStartable(id);
    s.started = true;
    s.running = true;
    try {
      const r = await this.containers.exec(s.containerId, {
        argv: s.config.Cmd!,
        env: s.config.Env ?? [],
        user: s.config.User || undefined,
        cwd: s.config.WorkingDir || undefined,
        onStdout: s.config.AttachStdout === false ? undefined : out.stdout,
        onStderr: s.config.AttachStderr === false ? undefined : out.stderr,
        onPid: (pid) => (s.pid = pid),
      });
      s.exitCode = r.exitCode;
      return r.exitCode;
    } catch (err) {
      s.exitCode = 126;
      throw err;
    } finally {
      s.running = false;
      setTimeout(() => this.sessions.delete(id), KEEP_FINISHED_MS).unref();
    }
  }
}
