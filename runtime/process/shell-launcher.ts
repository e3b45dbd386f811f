// Short commands (mount, runc state/kill/delete, ip, nft, tar) and conmon, forked by a small shell that lives
// beside the daemon. Forking the daemon itself is dear: the fork copies its page tables and write-protects its
// whole heap, so every page it writes afterwards faults once more, and Node's spawn waits for the child's exec
// (on a 2-core node starting 50 containers, the daemons' forks were a third of all CPU in a profile). dash forks
// in a fraction of that. A command's output goes to files and is handed over when it ends; commands whose output
// is wanted live use launchStreaming instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { processAlive } from './alive.js';
import { LaunchedChild, type LaunchOptions } from './child.js';

interface Pending {
  child: LaunchedChild;
  files: string[];
  out?: string;
  err: string;
}

/** A shell argument: single quotes keep everything literal, a quote itself is closed, escaped, reopened. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** After this many commands a helper takes no more and a fresh one starts (bounds the shell's own growth). */
const COMMANDS_PER_HELPER = 2000;

let dir: string | undefined;

function filesDir(): string {
  if (!dir) {
    // Memory-backed when the host has /dev/shm: a command's files then never touch a disk's inode tables.
    const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
    sweep(base);
    dir = mkdtempSync(join(base, `tss-launch-${process.pid}-`));
    const made = dir;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return dir;
}

/** Removes the files directories of daemons that died without cleaning up (SIGKILL). */
function sweep(base: string): void {
  for (const name of readdirSync(base)) {
    const pid = Number(/^tss-launch-(\d+)-/.exec(name)?.[1]);
    if (pid && pid !== process.pid && !processAlive(pid))
      rmSync(join(base, name), { recursive: true, force: true });
  }
}

class Helper {
  private readonly proc: ChildProcess;
  private readonly results: Readable;
  private readonly pending = new Map<number, Pending>();
  /** Detached children not yet reported started. */
  private readonly detached = new Map<number, LaunchedChild>();
  private waited = 0;
  private partial = '';
  private launched = 0;
  private retired = false;

  constructor() {
    // Its own session: a signal to the daemon's process group reaches neither it nor the daemons (conmon) it
    // starts, and they outlive the daemon. fd 3 carries "<id> p <pid>" and "<id> x <status>" lines back.
    this.proc = spawn('/bin/sh', [], { stdio: ['pipe', 'ignore', 'ignore', 'pipe'], detached: true });
    this.proc.unref();
    this.results = this.proc.stdio[3] as Readable;
    (this.proc.stdin as unknown as { unref(): void }).unref();
    (this.results as unknown as { unref(): void }).unref();
    this.proc.stdin!.on('error', () => undefined);
    this.results.setEncoding('utf8').on('data', (d: string) => this.onData(d));
    this.proc.on('exit', () => {
      if (this.retired) return;
      this.retired = true;
      if (current === this) current = undefined;
      const gone = new Error('the launcher shell exited');
      for (const p of this.pending.values()) p.child.fail(gone);
      for (const c of this.detached.values()) c.fail(gone);
      this.pending.clear();
      this.detached.clear();
    });
  }

  launch(id: number, path: string, args: string[], o: LaunchOptions): LaunchedChild {
    const child = new LaunchedChild((signal) => {
      if (child.pid) process.kill(child.pid, signal);
    });
    // Checked before any file is written for the command.
    const env = Object.entries(o.env ?? {}).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new Error(`invalid environment variable name ${k}`);
      return `${k}=${shellQuote(v)} `;
    });
    if (o.detached) {
      this.launchDetached(id, child, [path, ...args], env, o);
      return child;
    }
    const d = filesDir();
    const base = join(d, String(id));
    const p: Pending = { child, files: [`${base}.err`], err: `${base}.err` };
    let stdin = '/dev/null';
    if (o.input !== undefined) {
      stdin = `${base}.in`;
      writeFileSync(stdin, o.input);
      p.files.push(stdin);
    }
    if (o.stdout !== false) {
      p.out = `${base}.out`;
      p.files.push(p.out);
    }
    const cd = o.cwd
      ? `cd ${shellQuote(o.cwd)} 2>${shellQuote(p.err)} || { echo "${id} x 1" >&3; exit; }; `
      : '';
    const cmd = `${env.join('')}${[path, ...args].map(shellQuote).join(' ')}`;
    const redirects = `3>&- <${shellQuote(stdin)} >${shellQuote(p.out ?? '/dev/null')} 2>${shellQuote(p.err)}`;
    this.pending.set(id, p);
    if (this.waited++ === 0) (this.results as unknown as { ref(): void }).ref();
    this.write(`( ${cd}${cmd} ${redirects} & echo "${id} p $!" >&3; wait $!; echo "${id} x $?" >&3 ) &\n`);
    return child;
  }

  /**
   * One fork: the subshell reports its own pid (read from /proc/self/stat: in dash `$$` is the parent's) and
   * becomes the command. Nobody waits for it, so the shell reaps it when it ends. For conmon this saves a shell
   * fork and exit per container, which on a busy node was about 5 % of a container start's CPU.
   */
  private launchDetached(
    id: number,
    child: LaunchedChild,
    argv: string[],
    env: string[],
    o: LaunchOptions,
  ): void {
    this.detached.set(id, child);
    const cd = o.cwd ? `cd ${shellQuote(o.cwd)} || exit; ` : '';
    const exports = env.length ? `export ${env.join('')}; ` : '';
    const err = shellQuote(o.stderrFile ?? '/dev/null');
    this.write(
      `( read -r pid _ </proc/self/stat; echo "${id} p $pid" >&3; ${cd}${exports}` +
        `exec ${argv.map(shellQuote).join(' ')} 3>&- </dev/null >/dev/null 2>${err} ) &\n`,
    );
  }

  private write(line: string): void {
    this.proc.stdin!.write(line);
    if (++this.launched >= COMMANDS_PER_HELPER) this.retire();
  }

  /** No new commands; the shell exits at the end of its input while its commands still report. */
  private retire(): void {
    this.retired = true;
    if (current === this) current = undefined;
    this.proc.stdin!.end();
  }

  private onData(d: string): void {
    const lines = (this.partial + d).split('\n');
    this.partial = lines.pop()!;
    for (const line of lines) {
      const [idText, kind, value] = line.split(' ');
      const detached = this.detached.get(Number(idText));
      if (detached && kind === 'p') {
        this.detached.delete(Number(idText));
        this.started(detached, Number(value));
        continue;
      }
      const p = this.pending.get(Number(idText));
      if (!p) continue;
      if (kind === 'p') {
        this.started(p.child, Number(value));
      } else if (kind === 'x') {
        this.pending.delete(Number(idText));
        if (--this.waited === 0) (this.results as unknown as { unref(): void }).unref();
        void this.finish(p, Number(value));
      }
    }
  }

  private started(child: LaunchedChild, pid: number): void {
    child.pid = pid;
    child.emit('spawn', pid);
    for (const s of child.sent) process.kill(pid, s);
  }

  private async finish(p: Pending, status: number): Promise<void> {
    const [out, err] = await Promise.all([
      p.out ? readFile(p.out).catch(() => Buffer.alloc(0)) : Buffer.alloc(0),
      readFile(p.err).catch(() => Buffer.alloc(0)),
    ]);
    await Promise.all(p.files.map((f) => rm(f, { force: true })));
    if (out.length) p.child.emit('stdout', out);
    if (err.length) p.child.emit('stderr', err);
    const signal = [...p.child.sent].find((s) => status === 128 + constants.signals[s]);
    p.child.emit('close', signal ? null : status, signal ?? null);
  }
}

let current: Helper | undefined;
let nextId = 1;
const resolved = new Map<string, string>();

/** The absolute path of a command (PATH and the sbin directories are searched), or undefined. */
export function resolveCommand(file: string): string | undefined {
  if (file.includes('/')) return existsSync(file) ? file : undefined;
  let path = resolved.get(file);
  if (!path) {
    const dirs = [
      ...(process.env.PATH ?? '').split(':'),
      '/usr/local/sbin',
      '/usr/sbin',
      '/sbin',
      '/usr/bin',
      '/bin',
    ];
    path = dirs.map((d) => join(d, file)).find((p) => p.startsWith('/') && existsSync(p));
    if (path) resolved.set(file, path);
  }
  return path;
}

/** Starts `file` with `args` from the launcher shell; its output arrives when it ends. */
export function launch(file: string, args: string[], o: LaunchOptions = {}): LaunchedChild {
  const path = resolveCommand(file);
  if (!path) {
    const child = new LaunchedChild(() => undefined);
    const err = Object.assign(new Error(`spawn ${file} ENOENT`), { code: 'ENOENT' });
    setImmediate(() => child.fail(err));
    return child;
  }
  current ??= new Helper();
  return current.launch(nextId++, path, args, o);
}
