// `tsswarm events [--since T] [--until T] [-f k=v]… [--format json|TEMPLATE]`: the daemon's event stream,
// printed as `docker events` prints it.
import type { Command } from 'commander';
import { parseDuration } from '../../api/index.js';
import { CliError, clientOf } from '../context.js';
import { applyFormat } from '../format.js';

export interface EventLine {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  scope?: string;
  time?: number;
  timeNano?: number;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/**
 * `--since`/`--until` as the docker CLI sends them: a duration ago ("10m") → unix seconds; a date or RFC 3339
 * time (local when it names no zone) → "seconds.nanoseconds"; unix seconds as given.
 */
export function timestampParameter(value: string, now = Date.now()): string {
  if (value !== '0') {
    try {
      return String(Math.floor((now - parseDuration(value) / 1e6) / 1000));
    } catch {
      // Not a duration.
    }
  }
  const asDate = /^\d{4}-\d{2}-\d{2}(T.*)?$/.exec(value);
  if (asDate) {
    let v = value;
    const zoned = /([zZ]|[+-]\d{2}:?\d{2})$/.test(v.slice(10));
    if (!asDate[1]) v += 'T00:00:00';
    else if (/T\d{2}(?=$|[zZ+-])/.test(v.slice(10))) v = v.replace(/T(\d{2})/, 'T$1:00');
    const ms = Date.parse(zoned ? v : v.replace(/[zZ]$/, ''));
    if (Number.isNaN(ms)) throw new CliError(`failed to parse value as time or duration: "${value}"`);
    const frac = /\.(\d+)/.exec(v)?.[1] ?? '';
    const sec = Math.floor(ms / 1000);
    return `${sec}.${(frac || String(ms % 1000).padStart(3, '0')).slice(0, 9).padEnd(9, '0')}`;
  }
  if (/^\d+(\.\d*)?$/.test(value)) return value;
  throw new CliError(`failed to parse value as time or duration: "${value}"`);
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** Go's "2006-01-02T15:04:05.000000000Z07:00" in local time: nanoseconds padded, "Z" for UTC. */
export function rfc3339NanoFixed(ns: bigint): string {
  const ms = Number(ns / 1_000_000n);
  const d = new Date(ms);
  const nanos = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  const off = -d.getTimezoneOffset();
  const zone =
    off === 0
      ? 'Z'
      : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
    `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${nanos.toString().padStart(9, '0')}${zone}`
  );
}

/** One event as `docker events` prints it: time, type, action, actor ID and its sorted attributes. */
export function prettyEvent(e: EventLine, ns?: bigint): string {
  let out = '';
  const when = ns ?? (e.timeNano ? BigInt(e.timeNano) : e.time ? BigInt(e.time) * 1_000_000_000n : undefined);
  if (when !== undefined) out += `${rfc3339NanoFixed(when)} `;
  out += `${e.Type} ${e.Action} ${e.Actor.ID}`;
  const attrs = Object.keys(e.Actor.Attributes ?? {}).sort();
  if (attrs.length > 0) out += ` (${attrs.map((k) => `${k}=${e.Actor.Attributes![k]}`).join(', ')})`;
  return out;
}

/** The `filters` parameter from repeated `--filter key=value` flags. */
export function eventFilters(flags: string[]): string | undefined {
  if (flags.length === 0) return undefined;
  const filters: Record<string, Record<string, boolean>> = {};
  for (const f of flags) {
    const eq = f.indexOf('=');
    if (eq <= 0) throw new CliError(`bad format of filter (expected name=value)`, 125);
    (filters[f.slice(0, eq).trim().toLowerCase()] ??= {})[f.slice(eq + 1)] = true;
  }
  return JSON.stringify(filters);
}

/** A line of the stream as the output wants it (the template sees Go's field names too). */
export function renderEvent(raw: string, format: string | undefined): string {
  const e = JSON.parse(raw) as EventLine;
  // JSON numbers lose int64 nanoseconds: read them from the text.
  const nanoText = /"timeNano":(\d+)/.exec(raw)?.[1];
  if (!format) return prettyEvent(e, nanoText ? BigInt(nanoText) : undefined);
  if (format === 'json' || /^\{\{\s*json\s+\.\s*\}\}$/.test(format)) return raw;
  return applyFormat(format, { ...e, Scope: e.scope, Time: e.time, TimeNano: e.timeNano });
}

export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('Get real time events from the server')
    .option('--since <time>', 'Show all events created since timestamp')
    .option('--until <time>', 'Stream events until this timestamp')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided', collect, [])
    .option('--format <format>', 'Format output using a template or "json"')
    .action(
      async (o: { since?: string; until?: string; filter: string[]; format?: string }, cmd: Command) => {
        const now = Date.now();
        const res = await clientOf(cmd).raw('GET', '/events', {
          query: {
            since: o.since ? timestampParameter(o.since, now) : undefined,
            until: o.until ? timestampParameter(o.until, now) : undefined,
            filters: eventFilters(o.filter),
          },
        });
        let rest = '';
        await new Promise<void>((resolve, reject) => {
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            rest += chunk;
            let nl: number;
            while ((nl = rest.indexOf('\n')) >= 0) {
              const line = rest.slice(0, nl).trim();
              rest = rest.slice(nl + 1);
              if (line) process.stdout.write(renderEvent(line, o.format) + '\n');
            }
          });
          res.on('end', resolve);
          res.on('error', reject);
        });
        if (rest.trim()) process.stdout.write(renderEvent(rest.trim(), o.format) + '\n');
      },
    );
}
