// GET /events query parameters as dockerd reads them: `since`/`until` UNIX timestamps and the `filters` that
// select events (daemon/events/filter.go).
import { InvalidArgument } from '../../api/index.js';
import { parseFilters, type Filters } from '../controlapi/filters.js';
import type { EventMessage } from './message.js';

/** Docker's event filters. Docker ignores other keys; we reject them, so a typo does not pass everything. */
export const EVENT_FILTERS = [
  'config',
  'container',
  'daemon',
  'event',
  'image',
  'label',
  'network',
  'node',
  'plugin',
  'scope',
  'secret',
  'service',
  'type',
  'volume',
] as const;

export function parseEventFilters(raw: unknown): Filters {
  return parseFilters(raw, EVENT_FILTERS);
}

/**
 * Docker's `since`/`until`: "seconds" or "seconds.nanoseconds" (the CLI turns durations and dates into that).
 * Empty → undefined. Returns nanoseconds since the epoch.
 */
export function parseEventTime(value: string | undefined, what: 'since' | 'until'): bigint | undefined {
  if (value === undefined || value === '') return undefined;
  const fail = (why: string) =>
    new InvalidArgument(`invalid value for '${what}': invalid timestamp ${JSON.stringify(value)}: ${why}`);
  const dot = value.indexOf('.');
  const s = dot < 0 ? value : value.slice(0, dot);
  let n = dot < 0 ? '' : value.slice(dot + 1);
  if (!/^[+-]?\d+$/.test(s)) throw fail(`invalid seconds ${JSON.stringify(s)}: invalid syntax`);
  const sec = BigInt(s);
  if (sec > 9223372036854775807n || sec < -9223372036854775808n)
    throw fail(`invalid seconds ${JSON.stringify(s)}: value out of range`);
  if (n.length > 20) throw fail(`invalid nanoseconds: length ${n.length} exceeds maximum 20`);
  const bad = /[^0-9]/.exec(n);
  if (bad) throw fail(`invalid nanoseconds: invalid character '${bad[0]}' at position ${bad.index}`);
  n = n.slice(0, 9).padEnd(9, '0');
  return sec * 1_000_000_000n + BigInt(n);
}

/** Checks the window: `until` before `since` is refused with Docker's wording. */
export function checkWindow(
  since: bigint | undefined,
  until: bigint | undefined,
  raw: { since?: string; until?: string },
): void {
  if (until !== undefined && until < (since ?? 0n))
    throw new InvalidArgument(
      `\`since\` time (${raw.since ?? ''}) cannot be after \`until\` time (${raw.until ?? ''})`,
    );
}

function exact(f: Filters, key: string, value: string | undefined): boolean {
  const want = f.get(key);
  return !want || want.length === 0 || (value !== undefined && want.includes(value));
}

/** Exact, or a prefix of the value (Docker's FuzzyMatch). */
function fuzzy(f: Filters, key: string, value: string | undefined): boolean {
  const want = f.get(key);
  return (
    !want ||
    want.length === 0 ||
    (value !== undefined && want.some((w) => value === w || value.startsWith(w)))
  );
}

/** An image reference without its tag or digest (Docker compares both forms). */
function withoutTag(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at < 0 ? ref : ref.slice(0, at);
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

const FUZZY_EVENTS = ['health_status', 'exec_create', 'exec_start'];

/** Whether `ev` passes every filter, as dockerd's Filter.Include. */
export function eventMatches(f: Filters, ev: EventMessage): boolean {
  if (f.size === 0) return true;
  const attrs = ev.Actor.Attributes;
  const action = (f.get('event') ?? []).some((w) => FUZZY_EVENTS.includes(w))
    ? fuzzy(f, 'event', ev.Action)
    : exact(f, 'event', ev.Action);
  if (!action || !exact(f, 'type', ev.Type) || !exact(f, 'scope', ev.scope)) return false;
  // An object filter (service=web, node=<id prefix>, …) compares the actor's ID and name, whatever the
  // event's type: Docker's filter on `service` thus keeps only events of matching services.
  for (const key of [
    'daemon',
    'container',
    'plugin',
    'volume',
    'network',
    'node',
    'service',
    'secret',
    'config',
  ])
    if (!fuzzy(f, key, ev.Actor.ID) && !fuzzy(f, key, attrs.name)) return false;
  const imageName = ev.Type === 'image' ? attrs.name : attrs.image;
  const image = [ev.Actor.ID, imageName, withoutTag(ev.Actor.ID), imageName && withoutTag(imageName)];
  if (!image.some((v) => exact(f, 'image', v))) return false;
  const labels = f.get('label');
  if (labels && labels.length > 0) {
    for (const l of labels) {
      const eq = l.indexOf('=');
      const key = eq < 0 ? l : l.slice(0, eq);
      if (!Object.hasOwn(attrs, key)) return false;
      if (eq >= 0 && attrs[key] !== l.slice(eq + 1)) return false;
    }
  }
  return true;
}
