// Parsers for the docker CLI's service flag values (--publish, --mount, --limit-memory, --secret, …).
import { readFileSync } from 'node:fs';
import { InvalidArgument, type Mount, type PortConfig } from '../../api/index.js';

const BINARY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** Docker's RAMInBytes: "16m", "512MiB", "1g", "1024" → bytes (binary units). */
export function parseBytes(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?$/i.exec(text.trim());
  if (!m) throw new InvalidArgument(`invalid size: '${text}'`);
  return Math.round(parseFloat(m[1]!) * BINARY_UNITS[m[2]!.toLowerCase()]!);
}

/** "0.5" CPUs → NanoCPUs. */
export function parseCpus(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgument(`invalid CPU value: '${text}'`);
  return Math.round(n * 1e9);
}

export function parseUint(flag: string, text: string): number {
  if (!/^\d+$/.test(text))
    throw new InvalidArgument(
      `invalid argument "${text}" for "${flag}" flag: must be a non-negative integer`,
    );
  return Number(text);
}

/** "k=v,k2=v2" with Docker's CSV rules (a bare key is a boolean true). */
export function parseCsv(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const field of text.split(',')) {
    if (field === '') continue;
    const eq = field.indexOf('=');
    out.set(
      (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase(),
      eq < 0 ? 'true' : field.slice(eq + 1),
    );
  }
  return out;
}

function parseBool(key: string, v: string): boolean {
  if (['true', '1'].includes(v.toLowerCase())) return true;
  if (['false', '0'].includes(v.toLowerCase())) return false;
  throw new InvalidArgument(`invalid value for ${key}: ${v}`);
}

function port(text: string, what: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new InvalidArgument(`invalid ${what} port: ${text}`);
  return n;
}

/** -p 8080:80[/udp], -p 80, -p published=8080,target=80,protocol=udp,mode=host. */
export function parsePublish(text: string): PortConfig {
  if (text.includes('=')) {
    const kv = parseCsv(text);
    const p: PortConfig = { TargetPort: 0, Protocol: 'tcp', PublishMode: 'ingress' };
    for (const [k, v] of kv) {
      if (k === 'target') p.TargetPort = port(v, 'target');
      else if (k === 'published') p.PublishedPort = port(v, 'published');
      else if (k === 'protocol') {
        if (!['tcp', 'udp', 'sctp'].includes(v)) throw new InvalidArgument(`invalid protocol value '${v}'`);
        p.Protocol = v as PortConfig['Protocol'];
      } else if (k === 'mode') {
        if (v !== 'ingress' && v !== 'host')
          throw new InvalidArgument(`invalid publish mode value (${v}): must be either 'ingress' or 'host'`);
        p.PublishMode = v;
      } else throw new InvalidArgument(`invalid field key ${k}`);
    }
    if (!p.TargetPort) throw new InvalidArgument('missing mandatory field "target"');
    return p;
  }
  const m = /^(?:(\d+):)?(\d+)(?:\/(tcp|udp|sctp))?$/.exec(text);
  if (!m) throw new InvalidArgument(`invalid published port: ${text}`);
  const p: PortConfig = {
    Protocol: (m[3] ?? 'tcp') as PortConfig['Protocol'],
    TargetPort: port(m[2]!, 'target'),
    PublishMode: 'ingress',
  };
  if (m[1]) p.PublishedPort = port(m[1], 'published');
  return p;
}

/** --mount type=bind,source=/a,target=/b,readonly (also src/dst/destination/ro). */
export function parseMount(text: string): Mount {
  const kv = parseCsv(text);
  const m: Mount = { Type: 'volume', Target: '' };
  for (const [k, v] of kv) {
    switch (k) {
      case 'type':
        m.Type = v as Mount['Type'];
        break;
      case 'source':
      case 'src':
        m.Source = v;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.Target = v;
        break;
      case 'readonly':
      case 'ro':
        m.ReadOnly = parseBool(k, v);
        break;
      case 'volume-nocopy':
        m.VolumeOptions = { ...m.VolumeOptions, NoCopy: parseBool(k, v) };
        break;
      case 'volume-label': {
        const [lk, lv = ''] = v.split('=');
        m.VolumeOptions = { ...m.VolumeOptions, Labels: { ...m.VolumeOptions?.Labels, [lk!]: lv } };
        break;
      }
      case 'tmpfs-size':
        m.TmpfsOptions = { ...m.TmpfsOptions, SizeBytes: parseBytes(v) };
        break;
      case 'tmpfs-mode':
        m.TmpfsOptions = { ...m.TmpfsOptions, Mode: parseInt(v, 8) };
        break;
      case 'bind-propagation':
        m.BindOptions = { ...m.BindOptions, Propagation: v };
        break;
      default:
        throw new InvalidArgument(`unexpected key '${k}' in '${text}'`);
    }
  }
  if (!m.Target) throw new InvalidArgument('target is required');
  return m;
}

/** -e KEY=VAL, or -e KEY taking the value from this environment (dropped when unset, as Docker does). */
export function parseEnv(list: string[], envFiles: string[] = []): string[] {
  const out: string[] = [];
  for (const file of envFiles) {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const l = line.trim();
      if (l && !l.startsWith('#')) list = [...list, l];
    }
  }
  for (const e of list) {
    if (e.includes('=')) out.push(e);
    else if (process.env[e] !== undefined) out.push(`${e}=${process.env[e]}`);
  }
  return out;
}

/** --secret name | source=name,target=file,uid=0,gid=0,mode=0444 (same form for --config). */
export interface FileRefOpt {
  source: string;
  target: string;
  uid: string;
  gid: string;
  mode: number;
}

export function parseFileRef(text: string, defaultMode: number): FileRefOpt {
  if (!text.includes('=')) return { source: text, target: text, uid: '0', gid: '0', mode: defaultMode };
  const kv = parseCsv(text);
  const source = kv.get('source') ?? kv.get('src');
  if (!source) throw new InvalidArgument(`source is required in '${text}'`);
  return {
    source,
    target: kv.get('target') ?? source,
    uid: kv.get('uid') ?? '0',
    gid: kv.get('gid') ?? '0',
    mode: kv.has('mode') ? parseInt(kv.get('mode')!, 8) : defaultMode,
  };
}

/** --placement-pref spread=node.labels.zone */
export function parsePlacementPref(text: string): { Spread: { SpreadDescriptor: string } } {
  const eq = text.indexOf('=');
  if (eq < 0 || text.slice(0, eq) !== 'spread')
    throw new InvalidArgument(`invalid placement preference "${text}": only spread is supported`);
  return { Spread: { SpreadDescriptor: text.slice(eq + 1) } };
}

/** --network name | name=x,alias=a,driver-opt=k=v */
export function parseNetwork(text: string): { Target: string; Aliases?: string[] } {
  if (!text.includes('=')) return { Target: text };
  const aliases: string[] = [];
  let target = '';
  for (const field of text.split(',')) {
    const [k, ...rest] = field.split('=');
    const v = rest.join('=');
    if (k === 'name') target = v;
    else if (k === 'alias') aliases.push(v);
    else if (k !== 'driver-opt') throw new InvalidArgument(`invalid field key ${k} in '${text}'`);
  }
  if (!target) throw new InvalidArgument(`network name is required in '${text}'`);
  return aliases.length ? { Target: target, Aliases: aliases } : { Target: target };
}

/** KEY=VALUE list → map (labels). */
export function parseLabels(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const l of list) {
    const eq = l.indexOf('=');
    out[eq < 0 ? l : l.slice(0, eq)] = eq < 0 ? '' : l.slice(eq + 1);
  }
  return out;
}

/** Splits a command line on whitespace, honouring simple quotes, as --entrypoint and --health-cmd need. */
export function splitCommand(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) out.push(m[1] ?? m[2] ?? m[3]!);
  return out;
}
