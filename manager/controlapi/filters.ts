// Docker's `filters` query parameter: {"name":{"web":true}} (current) or {"name":["web"]} (old clients).
import { InvalidArgument } from '../../api/index.js';

export type Filters = Map<string, string[]>;

export function parseFilters(raw: unknown, allowed: readonly string[]): Filters {
  const out: Filters = new Map();
  if (raw === undefined || raw === '') return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(String(raw));
  } catch {
    throw new InvalidArgument(`invalid filter: ${String(raw)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new InvalidArgument('invalid filter: must be an object');
  for (const [key, value] of Object.entries(parsed)) {
    if (!allowed.includes(key)) throw new InvalidArgument(`invalid filter '${key}'`);
    if (value === null || typeof value !== 'object') throw new InvalidArgument('invalid filter');
    const values = Array.isArray(value)
      ? value.map(String)
      : Object.keys(value as object).filter((k) => (value as Record<string, unknown>)[k]);
    out.set(key, values);
  }
  return out;
}

/** True when the filter `key` is absent, or `actual` equals one of its values. */
export function matchExact(f: Filters, key: string, actual: string | undefined): boolean {
  const want = f.get(key);
  return !want || want.length === 0 || (actual !== undefined && want.includes(actual));
}

/** ID filters match by prefix, as Docker's. */
export function matchPrefix(f: Filters, key: string, actual: string): boolean {
  const want = f.get(key);
  return !want || want.length === 0 || want.some((w) => actual.startsWith(w));
}

/** Name filters match substrings, as swarmkit's name filter for services and tasks. */
export function matchNamePrefix(f: Filters, key: string, actual: string | undefined): boolean {
  const want = f.get(key);
  return !want || want.length === 0 || (actual !== undefined && want.some((w) => actual.startsWith(w)));
}

/** label filters: "key" (present) or "key=value"; every given label must match. */
export function matchLabels(f: Filters, key: string, labels: Record<string, string> | undefined): boolean {
  const want = f.get(key);
  if (!want || want.length === 0) return true;
  return want.every((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) return labels?.[w] !== undefined;
    return labels?.[w.slice(0, eq)] === w.slice(eq + 1);
  });
}
