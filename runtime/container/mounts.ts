// A container's mounts from HostConfig.Binds ("src:dst[:opts]"), HostConfig.Mounts and HostConfig.Tmpfs, checked
// with Docker's messages. Named volumes are directories under <data-root>/volumes/<name>/_data.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidArgument, type Mount } from '../../api/index.js';
import type { HostConfig } from './create-request.js';
import type { OciMount } from './oci-spec.js';

/** A mount as `docker inspect` shows it (Mounts[]). */
export interface MountPoint {
  Type: 'bind' | 'volume' | 'tmpfs';
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ResolvedMounts {
  oci: OciMount[];
  points: MountPoint[];
  /** Volume directories this create made (removed again if the create fails). */
  createdVolumes: string[];
}

const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const BIND_MODES = new Set([
  'ro',
  'rw',
  'z',
  'Z',
  'nocopy',
  'shared',
  'rshared',
  'slave',
  'rslave',
  'private',
  'rprivate',
]);

function invalid(type: string, why: string): InvalidArgument {
  return new InvalidArgument(`invalid mount config for type "${type}": ${why}`);
}

function checkTarget(type: string, target: string | undefined): string {
  if (!target) throw invalid(type, 'field Target must not be empty');
  if (!target.startsWith('/'))
    throw invalid(type, `invalid mount path: '${target}' mount path must be absolute`);
  if (posix.normalize(target) === '/') throw invalid(type, "invalid specification: destination can't be '/'");
  return posix.normalize(target);
}

export class VolumeDirs {
  constructor(readonly root: string) {}

  /** The host directory of volume `name`, created on first use. */
  ensure(name: string, created: string[]): string {
    if (!VOLUME_NAME.test(name))
      throw new InvalidArgument(
        `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
      );
    const dir = join(this.root, name, '_data');
    if (!existsSync(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      created.push(join(this.root, name));
    }
    return dir;
  }
}

function bindOptions(ro: boolean, propagation = 'rprivate'): string[] {
  return ['rbind', propagation, ...(ro ? ['ro'] : [])];
}

function fromBind(spec: string, volumes: VolumeDirs, out: ResolvedMounts): void {
  const parts = spec.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1])
    throw new InvalidArgument(`invalid volume specification: '${spec}'`);
  const [src, dst, modeText = ''] = parts as [string, string, string?];
  const modes = modeText ? modeText.split(',') : [];
  for (const m of modes) if (!BIND_MODES.has(m)) throw new InvalidArgument(`invalid mode: ${m}`);
  if (!dst.startsWith('/'))
    throw new InvalidArgument(
      `invalid volume specification: '${spec}': invalid mount config for type "bind": invalid mount path: '${dst}' mount path must be absolute`,
    );
  const ro = modes.includes('ro');
  const propagation = modes.find((m) => /shared|slave|private/.test(m)) ?? 'rprivate';
  const target = posix.normalize(dst);
  if (src.startsWith('/')) {
    // Docker creates a missing host directory for -v binds (not for --mount).
    if (!existsSync(src)) mkdirSync(src, { recursive: true });
    out.oci.push({ destination: target, type: 'bind', source: src, options: bindOptions(ro, propagation) });
    out.points.push({
      Type: 'bind',
      Source: src,
      Destination: target,
      Mode: modeText,
      RW: !ro,
      Propagation: propagation,
    });
  } else {
    const dir = volumes.ensure(src, out.createdVolumes);
    out.oci.push({ destination: target, type: 'bind', source: dir, options: bindOptions(ro) });
    out.points.push({
      Type: 'volume',
      Name: src,
      Source: dir,
      Destination: target,
      Driver: 'local',
      Mode: modeText || 'z',
      RW: !ro,
      Propagation: '',
    });
  }
}

function tmpfsOptions(text: string): string[] {
  const opts = text ? text.split(',').filter(Boolean) : [];
  for (const o of opts) {
    const [k, v] = o.split('=');
    if (k === 'size' && v !== undefined && !/^\d+[kmg%]?$/i.test(v))
      throw new InvalidArgument(`invalid tmpfs option ["${o}"]`);
    if (k === 'mode' && v !== undefined && !/^[0-7]{3,4}$/.test(v))
      throw new InvalidArgument(`invalid tmpfs option ["${o}"]`);
  }
  return ['nosuid', 'nodev', 'noexec', ...opts];
}

function fromMount(m: Mount, volumes: VolumeDirs, out: ResolvedMounts): void {
  const type = m.Type as string;
  if (!['bind', 'volume', 'tmpfs'].includes(type)) throw new InvalidArgument(`mount type unknown: "${type}"`);
  const target = checkTarget(type, m.Target);
  const ro = !!m.ReadOnly;
  if (type === 'bind') {
    if (!m.Source) throw invalid(type, 'field Source must not be empty');
    if (!m.Source.startsWith('/'))
      throw invalid(type, `invalid mount path: '${m.Source}' mount path must be absolute`);
    if (!existsSync(m.Source)) throw invalid(type, `bind source path does not exist: ${m.Source}`);
    if (m.TmpfsOptions) throw invalid(type, 'field TmpfsOptions must not be specified');
    const prop = m.BindOptions?.Propagation || 'rprivate';
    out.oci.push({ destination: target, type: 'bind', source: m.Source, options: bindOptions(ro, prop) });
    out.points.push({
      Type: 'bind',
      Source: m.Source,
      Destination: target,
      Mode: '',
      RW: !ro,
      Propagation: prop,
    });
  } else if (type === 'volume') {
    if (m.TmpfsOptions) throw invalid(type, 'field TmpfsOptions must not be specified');
    if (!m.Source) throw invalid(type, 'anonymous volumes are not supported yet: give the volume a name');
    const dir = volumes.ensure(m.Source, out.createdVolumes);
    out.oci.push({ destination: target, type: 'bind', source: dir, options: bindOptions(ro) });
    out.points.push({
      Type: 'volume',
      Name: m.Source,
      Source: dir,
      Destination: target,
      Driver: 'local',
      Mode: 'z',
      RW: !ro,
      Propagation: '',
    });
  } else {
    if (m.Source) throw invalid(type, 'field Source must not be specified');
    const size = m.TmpfsOptions?.SizeBytes;
    if (size !== undefined && size < 0) throw invalid(type, `invalid tmpfs size: ${size}`);
    const opts = [
      ...(size ? [`size=${size}`] : []),
      ...(m.TmpfsOptions?.Mode ? [`mode=${m.TmpfsOptions.Mode.toString(8)}`] : []),
      ...(ro ? ['ro'] : []),
    ];
    out.oci.push({
      destination: target,
      type: 'tmpfs',
      source: 'tmpfs',
      options: tmpfsOptions(opts.join(',')),
    });
    out.points.push({ Type: 'tmpfs', Source: '', Destination: target, Mode: '', RW: !ro, Propagation: '' });
  }
}

export function resolveMounts(h: HostConfig, volumes: VolumeDirs): ResolvedMounts {
  const out: ResolvedMounts = { oci: [], points: [], createdVolumes: [] };
  try {
    for (const b of h.Binds ?? []) fromBind(b, volumes, out);
    for (const m of h.Mounts ?? []) fromMount(m, volumes, out);
    for (const [path, opts] of Object.entries(h.Tmpfs ?? {})) {
      const target = checkTarget('tmpfs', path);
      out.oci.push({ destination: target, type: 'tmpfs', source: 'tmpfs', options: tmpfsOptions(opts) });
      out.points.push({
        Type: 'tmpfs',
        Source: '',
        Destination: target,
        Mode: opts,
        RW: !opts.split(',').includes('ro'),
        Propagation: '',
      });
    }
    const seen = new Set<string>();
    for (const p of out.points) {
      if (seen.has(p.Destination)) throw new InvalidArgument(`Duplicate mount point: ${p.Destination}`);
      seen.add(p.Destination);
    }
  } catch (err) {
    removeCreatedVolumes(out.createdVolumes);
    throw err;
  }
  return out;
}

export function removeCreatedVolumes(dirs: string[]): void {
  for (const d of dirs) {
    // Only volumes this very create made: nothing has used them yet.
    rmSync(d, { recursive: true, force: true });
  }
}
