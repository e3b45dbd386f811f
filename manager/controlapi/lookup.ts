// Resolving a user's reference to an object as Docker does: full ID, then exact name, then a unique ID prefix.
import { InvalidArgument, NotFound } from '../../api/index.js';
import type { Kind, KindMap, ReadTx } from '../store/index.js';

export function lookup<K extends Kind>(tx: ReadTx, kind: K, ref: string, label: string = kind): KindMap[K] {
  const byId = tx.get(kind, ref);
  if (byId) return byId;
  const all = tx.all(kind);
  const byName = all.filter(
    (o) =>
      (o.Spec as { Name?: string }).Name === ref ||
      (kind === 'node' && (o as KindMap['node']).Description?.Hostname === ref),
  );
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1)
    throw new InvalidArgument(`${label} ${ref} is ambiguous (${byName.length} matches found)`);
  const byPrefix = ref.length > 0 ? all.filter((o) => o.ID.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1)
    throw new InvalidArgument(`${label} ${ref} is ambiguous (${byPrefix.length} matches found)`);
  throw new NotFound(`${label} ${ref} not found`);
}

/** `?version=N` of update calls. */
export function parseVersion(raw: unknown): number {
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isInteger(n) || n < 0)
    throw new InvalidArgument(`invalid version '${raw ?? ''}'`);
  return n;
}

export function requireBody<T>(body: unknown, what: string): T {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new InvalidArgument(`${what}: request body must be a JSON object`);
  }
  return body as T;
}
