// A container's log files: conmon's k8s-file log plus Docker-style rotated files (<log>.1 … <log>.<max-file-1>).
// Rotation renames the live file and asks conmon to reopen its log through its control fifo (message "2").
import {
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseK8sLog, parseK8sLine, type LogLine } from './logs.js';

/** Existing log files, oldest first. */
export function logFiles(logPath: string, maxFile: number): string[] {
  const out: string[] = [];
  for (let i = Math.max(1, maxFile - 1); i >= 1; i--)
    if (existsSync(`${logPath}.${i}`)) out.push(`${logPath}.${i}`);
  if (existsSync(logPath)) out.push(logPath);
  return out;
}

/**
 * Everything logged so far (rotated files first) and the live file's size, where following it picks up. A file
 * rotated away between listing and reading counts as empty.
 */
export function readLogBacklog(logPath: string, maxFile: number): { lines: LogLine[]; liveBytes: number } {
  const files = logFiles(logPath, maxFile);
  const contents = files.map((f) => {
    try {
      return readFileSync(f);
    } catch {
      return Buffer.alloc(0);
    }
  });
  const liveBytes = files.at(-1) === logPath ? contents.at(-1)!.length : 0;
  return { lines: parseK8sLog(Buffer.concat(contents).toString('utf8')), liveBytes };
}

export function readLogLines(logPath: string, maxFile: number): LogLine[] {
  return readLogBacklog(logPath, maxFile).lines;
}

/** Shifts <log>.i to <log>.i+1 (dropping the oldest), moves the live file to <log>.1 and has conmon reopen. */
export function rotateLog(logPath: string, maxFile: number, bundle: string): void {
  rmSync(`${logPath}.${maxFile - 1}`, { force: true });
  for (let i = maxFile - 2; i >= 1; i--)
    if (existsSync(`${logPath}.${i}`)) renameSync(`${logPath}.${i}`, `${logPath}.${i + 1}`);
  if (maxFile > 1) renameSync(logPath, `${logPath}.1`);
  // The new current file exists at once, as Docker's does, even if conmon exits before it reopens its log.
  closeSync(openSync(logPath, 'a'));
  reopenConmonLog(bundle);
}

/** Message 2 on conmon's ctl fifo: reopen the log files (a new file at the log path). */
export function reopenConmonLog(bundle: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(join(bundle, 'ctl'), constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(fd, '2 0 0\n');
    return true;
  } catch {
    return false; // conmon is gone (ENXIO: no reader)
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function logSize(logPath: string): number {
  try {
    return statSync(logPath).size;
  } catch {
    return 0;
  }
}

/**
 * Follows the live log from byte `offset`, calling `onLine` for each complete k8s line (partial-line records are
 * joined), across rotations: the open descriptor is read to its end before switching to the new file.
 * Resolves when `done()` turns true (and everything written so far was read) or `signal` aborts.
 */
export async function followLog(
  logPath: string,
  offset: number,
  onLine: (l: LogLine) => void,
  done: () => boolean,
  signal: AbortSignal,
  pollMs = 100,
): Promise<void> {
  let fh = existsSync(logPath) ? await open(logPath, 'r') : undefined;
  let pos = offset;
  let rest = '';
  let pending: LogLine | undefined;
  const emit = (raw: string): void => {
    const l = parseK8sLine(raw);
    if (!l) return;
    if (pending && pending.stream === l.stream) {
      pending.text += l.text;
      if (!l.partial) {
        onLine({ ...pending, partial: false, text: pending.text + '\n' });
        pending = undefined;
      }
    } else if (l.partial) pending = { ...l };
    else onLine({ ...l, text: l.text + '\n' });
  };
  const drain = async (): Promise<void> => {
    if (!fh) return;
    const buf = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      rest += buf.subarray(0, bytesRead).toString('utf8');
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (l) emit(l);
    }
  };
  try {
    while (!signal.aborted) {
      const finishing = done();
      await drain();
      // A rotation (or conmon's own truncation) put a new file at the path: continue there.
      const cur = await stat(logPath).catch(() => undefined);
      const mine = fh ? await fh.stat() : undefined;
      if (cur && (!mine || cur.ino !== mine.ino)) {
        await fh?.close();
        fh = await open(logPath, 'r');
        pos = 0;
        rest = '';
        continue;
      }
      if (finishing) break;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    await fh?.close();
  }
}
