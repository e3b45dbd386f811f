// Service and task logs: what travels between the HTTP route, the leader's broker and the agents, and the pure
// helpers that turn a query into options and a log message into Docker's multiplexed frame.
import { InvalidArgument } from '../../api/index.js';

/** Which logs a subscription wants: tasks of these services, or these tasks. */
export interface LogSelector {
  serviceIds: string[];
  taskIds: string[];
}

export interface LogOptions {
  follow: boolean;
  /** Last N lines per task; undefined = all. */
  tail?: number;
  /** Unix seconds (may be fractional). */
  since?: number;
  stdout: boolean;
  stderr: boolean;
}

/** One line of a task's container log. `time` is conmon's RFC 3339 timestamp; `data` ends with "\n". */
export interface LogMessage {
  nodeId: string;
  serviceId: string;
  taskId: string;
  time: string;
  stream: 'stdout' | 'stderr';
  data: string;
}

/** What the dispatcher hands an agent in its session: publish these logs over PublishLogs. */
export interface LogSubscription {
  id: string;
  selector: LogSelector;
  options: LogOptions;
}

/** Agent → manager on a PublishLogs stream: the first message names the subscription; `close` ends it. */
export interface PublishLogsMessage {
  subscriptionId: string;
  /** The manager fills in the node from the caller's certificate. */
  messages?: Omit<LogMessage, 'nodeId'>[];
  close?: boolean;
}

/** Output options of the HTTP response. */
export interface LogOutput {
  timestamps: boolean;
  details: boolean;
}

type Query = Record<string, string | undefined>;

function truthy(v: string | undefined): boolean {
  return v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false';
}

/** `since` as Docker accepts it: unix seconds (with fraction) or an RFC 3339 time; "" and "0" mean none. */
export function parseSince(v: string | undefined): number | undefined {
  if (v === undefined || v === '' || v === '0') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Number(v);
  const t = /^\d{4}-\d\d-\d\dT/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new InvalidArgument(`invalid value for "since": ${JSON.stringify(v)}`);
  return t / 1000;
}

/** The query of GET /services/{id}/logs and /tasks/{id}/logs (Docker's names and defaults). */
export function parseLogQuery(q: Query): { options: LogOptions; output: LogOutput } {
  const options: LogOptions = {
    follow: truthy(q.follow),
    stdout: truthy(q.stdout),
    stderr: truthy(q.stderr),
    since: parseSince(q.since),
  };
  if (!options.stdout && !options.stderr)
    throw new InvalidArgument('Bad parameters: you must choose at least one stream');
  if (q.tail !== undefined && q.tail !== '' && q.tail !== 'all') {
    if (!/^-?\d+$/.test(q.tail)) throw new InvalidArgument(`invalid value for "tail": ${q.tail}`);
    if (Number(q.tail) >= 0) options.tail = Number(q.tail);
  }
  return { options, output: { timestamps: truthy(q.timestamps), details: truthy(q.details) } };
}

/**
 * A time as Go's RFC3339NanoFixed in UTC (what dockerd prints): nine fraction digits, "Z". conmon writes
 * local offsets and nanoseconds; the fraction is kept as written, the rest converted to UTC.
 */
export function fixedNanoUTC(time: string): string {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$/.exec(time);
  if (!m) return time;
  const ms = Date.parse(`${m[1]}${m[3] ?? 'Z'}`);
  if (Number.isNaN(ms)) return time;
  const whole = new Date(ms).toISOString().slice(0, 19);
  return `${whole}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}Z`;
}

/** Docker's details prefix: attributes sorted by key, `k=v` query-escaped, joined by ",". */
export function detailsOf(m: Pick<LogMessage, 'nodeId' | 'serviceId' | 'taskId'>): string {
  const attrs: [string, string][] = [
    ['com.docker.swarm.node.id', m.nodeId],
    ['com.docker.swarm.service.id', m.serviceId],
    ['com.docker.swarm.task.id', m.taskId],
  ];
  return attrs
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${queryEscape(k)}=${queryEscape(v)}`)
    .join(',');
}

/** Go's url.QueryEscape. */
function queryEscape(s: string): string {
  return encodeURIComponent(s)
    .replace(/%20/g, '+')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** One message as dockerd writes it: [timestamp ][details ]line, in an 8-byte multiplexed frame. */
export function logFrame(m: LogMessage, o: LogOutput): Buffer {
  let line = m.data;
  if (o.details) line = `${detailsOf(m)} ${line}`;
  if (o.timestamps) line = `${fixedNanoUTC(m.time)} ${line}`;
  const payload = Buffer.from(line);
  const header = Buffer.alloc(8);
  header[0] = m.stream === 'stderr' ? 2 : 1;
  header.writeUInt32BE(payload.length, 4);
  return Buffer.concat([header, payload]);
}
