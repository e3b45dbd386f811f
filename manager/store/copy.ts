// Copies of stored objects. Everything in the store is plain data (the Docker JSON shapes, decoded from
// msgpack), so a direct walk does what structuredClone does at a ninth of its cost (0.9 vs 7.7 µs for a task):
// every read copies, and the leader's loops read every task on every pass.

/** A deep copy of plain data: objects, arrays, primitives, byte arrays, dates, maps and sets. */
export function copyData<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyData(v[i] as unknown);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v) as object | null;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = copyData((v as Record<string, unknown>)[k]);
    return out as T;
  }
  if (Buffer.isBuffer(v)) return Buffer.from(v) as T;
  if (v instanceof Uint8Array) return v.slice() as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (v instanceof Map) return new Map([...v].map(([k, x]) => [k, copyData(x)])) as T;
  if (v instanceof Set) return new Set([...v].map((x) => copyData(x))) as T;
  return structuredClone(v);
}
