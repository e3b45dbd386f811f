// Output as the docker CLI prints it: aligned tables, `--format json`, and Go-template-like `{{.Field}}` formats.

/** Renders rows as the docker CLI's tabwriter does: columns padded to the widest cell plus three spaces. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3)))
      .join('')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

function lookup(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split('.').filter(Boolean)) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

function show(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (typeof v === 'object')
    return Array.isArray(v)
      ? `[${v.map(show).join(' ')}]`
      : `map[${Object.entries(v)
          .map(([k, x]) => `${k}:${show(x)}`)
          .join(' ')}]`;
  return String(v);
}

/** Applies a `--format` value to one object: "json", "{{json .}}", "{{.ID}} {{.Spec.Name}}". */
export function applyFormat(format: string, value: unknown): string {
  if (format === 'json') return JSON.stringify(value);
  return format
    .replace(/\\n/g, '\n')
    .replace(/\\t/g, '\t')
    .replace(/\{\{\s*(json\s+)?\.([\w.]*)\s*\}\}/g, (_m, json: string | undefined, path: string) => {
      const v = lookup(value, path);
      return json ? JSON.stringify(v ?? null) : show(v);
    });
}

/** Prints a list either as a table or, with a format, one formatted line per item. */
export function printList<T>(
  items: T[],
  format: string | undefined,
  headers: string[],
  row: (item: T) => string[],
): void {
  if (format && format !== 'table') {
    for (const item of items) process.stdout.write(applyFormat(format, item) + '\n');
    return;
  }
  process.stdout.write(table(headers, items.map(row)));
}

export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toPrecision(3).replace(/\.?0+$/, '')}${units[i]}`;
}

export function humanBytesBinary(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 2).replace(/\.?0+$/, '')}${units[i]}`;
}
