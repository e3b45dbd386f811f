// `service logs` output as the docker CLI prints it: each frame's "[timestamp ]details line" is split, the
// details name the node, service and task, and the line is printed after "web.1.<task id>@<node>    | ".
import { parseDuration } from '../../api/index.js';

export interface ParsedLogLine {
  timestamp?: string;
  details: Map<string, string>;
  message: string;
}

/** Docker's details: `k=v` pairs, query-escaped, separated by ",". */
export function parseDetails(s: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!s) return out;
  for (const pair of s.split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`invalid details format: ${s}`);
    const dec = (x: string): string => decodeURIComponent(x.replace(/\+/g, ' '));
    out.set(dec(pair.slice(0, eq)), dec(pair.slice(eq + 1)));
  }
  return out;
}

/** Splits one frame's payload (requested with details, and timestamps when `timestamps`). */
export function splitLogPayload(payload: string, timestamps: boolean): ParsedLogLine {
  let rest = payload;
  let timestamp: string | undefined;
  if (timestamps) {
    const sp = rest.indexOf(' ');
    if (sp < 0) throw new Error(`invalid context in log message: ${payload}`);
    timestamp = rest.slice(0, sp);
    rest = rest.slice(sp + 1);
  }
  const sp = rest.indexOf(' ');
  if (sp < 0) throw new Error(`invalid context in log message: ${payload}`);
  return { timestamp, details: parseDetails(rest.slice(0, sp)), message: rest.slice(sp + 1) };
}

export interface TaskLabelInput {
  serviceName: string;
  /** Replicated tasks have a slot; global ones are named by their node. */
  slot?: number;
  nodeId?: string;
  taskId: string;
  nodeName: string;
  /** Width of the widest slot number (digits of the replica count). */
  padding: number;
  noTaskIds?: boolean;
  noTrunc?: boolean;
}

/** "web.1.abcdef012345@node1" padded so lines of slots 1..N line up (the docker CLI's task formatter). */
export function taskLabel(o: TaskLabelInput): string {
  let name = o.slot ? `${o.serviceName}.${o.slot}` : `${o.serviceName}.${o.nodeId ?? ''}`;
  if (!o.noTaskIds) name += `.${o.noTrunc ? o.taskId : o.taskId.slice(0, 12)}`;
  const width = o.slot ? String(o.slot).length : 1;
  return `${name}@${o.nodeName}${' '.repeat(Math.max(0, o.padding - width))}`;
}

/** One output line: "[timestamp ]<label>    | <message>". */
export function formatLogLine(label: string, line: ParsedLogLine): string {
  return `${line.timestamp !== undefined ? `${line.timestamp} ` : ''}${label}    | ${line.message}`;
}

/** `--since` as the docker CLI sends it: unix seconds, an RFC 3339 time, or a duration ago ("10m"). */
export function sinceParameter(v: string, now = Date.now()): string {
  if (/^\d+(\.\d+)?$/.test(v) || /^\d{4}-\d\d-\d\d/.test(v)) return v;
  return ((now - parseDuration(v) / 1e6) / 1000).toFixed(9);
}

/** Splits a multiplexed stream as it arrives: call with each chunk; complete frames go to `onFrame`. */
export class FrameReader {
  private buf: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: 1 | 2, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32BE(4);
      if (this.buf.length < 8 + len) break;
      this.onFrame(this.buf[0] === 2 ? 2 : 1, this.buf.subarray(8, 8 + len));
      this.buf = this.buf.subarray(8 + len);
    }
  }
}
