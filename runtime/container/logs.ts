// Container logs: conmon's k8s-file lines ("<RFC3339Nano> <stdout|stderr> <P|F> <text>") and Docker's
// multiplexed stream framing (8-byte header: stream, 0, 0, 0, big-endian length).

export interface LogLine {
  time: string;
  stream: 'stdout' | 'stderr';
  /** A whole line (F) or a partial one conmon split (P). */
  partial: boolean;
  text: string;
}

export function parseK8sLine(line: string): LogLine | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  const tag = c < 0 ? line.slice(b + 1) : line.slice(b + 1, c);
  return {
    time: line.slice(0, a),
    stream,
    partial: tag.startsWith('P'),
    text: c < 0 ? '' : line.slice(c + 1),
  };
}

/** Joins partial lines back into the lines the program wrote (each ends with "\n", as Docker delivers them). */
export function parseK8sLog(content: string): LogLine[] {
  const out: LogLine[] = [];
  let pending: LogLine | undefined;
  for (const raw of content.split('\n')) {
    if (!raw) continue;
    const l = parseK8sLine(raw);
    if (!l) continue;
    if (pending && pending.stream === l.stream) {
      pending.text += l.text;
      if (!l.partial) {
        out.push({ ...pending, partial: false, text: pending.text + '\n' });
        pending = undefined;
      }
      continue;
    }
    if (l.partial) pending = { ...l };
    else out.push({ ...l, text: l.text + '\n' });
  }
  if (pending) out.push({ ...pending });
  return out;
}

export interface LogFilter {
  stdout?: boolean;
  stderr?: boolean;
  /** Unix seconds (may be fractional). */
  since?: number;
  until?: number;
  /** Last N lines; undefined = all. */
  tail?: number;
  timestamps?: boolean;
}

export function selectLines(lines: LogLine[], f: LogFilter): LogLine[] {
  let out = lines.filter((l) => (l.stream === 'stdout' ? f.stdout !== false : f.stderr !== false));
  if (f.since !== undefined) out = out.filter((l) => Date.parse(l.time) / 1000 >= f.since!);
  if (f.until !== undefined) out = out.filter((l) => Date.parse(l.time) / 1000 <= f.until!);
  if (f.tail !== undefined && f.tail >= 0) out = out.slice(Math.max(0, out.length - f.tail));
  return out;
}

/** One log line as a Docker multiplexed frame (or raw bytes for TTY containers). */
export function frame(l: LogLine, o: { timestamps?: boolean; tty?: boolean } = {}): Buffer {
  const payload = Buffer.from(o.timestamps ? `${l.time} ${l.text}` : l.text);
  if (o.tty) return payload;
  const header = Buffer.alloc(8);
  header[0] = l.stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}

/** Splits a multiplexed Docker stream back into (stream, text) records (clients and tests). */
export function demux(buf: Buffer): { stream: 'stdout' | 'stderr'; text: string }[] {
  const out: { stream: 'stdout' | 'stderr'; text: string }[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off + 4);
    out.push({
      stream: buf[off] === 2 ? 'stderr' : 'stdout',
      text: buf.subarray(off + 8, off + 8 + len).toString(),
    });
    off += 8 + len;
  }
  return out;
}
