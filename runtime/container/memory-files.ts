// Files a container sees whose content must never touch the disk (secrets, configs): written on a tmpfs mounted
// at <container dir>/files (mode 0700) for the container's whole life, each bind-mounted read-only at its target
// inside the container. The mount goes when the container is removed (or its directory is discarded).
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidArgument } from '../../api/index.js';
import type { OciMount } from './oci-spec.js';
import { isMounted, mount, unmount } from './rootfs.js';

export interface ContainerFile {
  /** Absolute path inside the container. */
  target: string;
  data: Buffer;
  uid: number;
  gid: number;
  /** Permission bits, e.g. 0o444. */
  mode: number;
}

export function filesDirOf(bundle: string): string {
  return join(bundle, 'files');
}

/** Checks targets (absolute, not "/", unique, not clashing with `taken`) and owners/modes; returns them normalised. */
export function checkFiles(files: ContainerFile[], taken: Iterable<string> = []): ContainerFile[] {
  const seen = new Set(taken);
  return files.map((f) => {
    if (!f.target.startsWith('/')) throw new InvalidArgument(`file target "${f.target}" must be absolute`);
    const target = posix.normalize(f.target);
    if (target === '/') throw new InvalidArgument(`invalid file target "${f.target}"`);
    if (seen.has(target)) throw new InvalidArgument(`Duplicate mount point: ${target}`);
    seen.add(target);
    for (const [what, v] of [
      ['uid', f.uid],
      ['gid', f.gid],
    ] as const)
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw new InvalidArgument(`invalid ${what} ${v} for file ${target}`);
    if (!Number.isInteger(f.mode) || f.mode < 0 || f.mode > 0o7777)
      throw new InvalidArgument(`invalid mode ${f.mode} for file ${target}`);
    return { ...f, target };
  });
}

/** Mounts the tmpfs (unless it already is), writes the files and returns their read-only bind mounts. */
export async function mountFiles(bundle: string, files: ContainerFile[]): Promise<OciMount[]> {
  if (files.length === 0) return [];
  const dir = filesDirOf(bundle);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!isMounted(dir))
    await mount(
      ['-t', 'tmpfs', '-o', 'mode=0700,nosuid,nodev,noexec', 'tmpfs', dir],
      "the tmpfs for the container's files",
    );
  return files.map((f, i) => {
    const source = join(dir, String(i));
    writeFileSync(source, f.data, { mode: 0o600 });
    chownSync(source, f.uid, f.gid);
    chmodSync(source, f.mode);
    return { destination: f.target, type: 'bind', source, options: ['rbind', 'rprivate', 'ro'] };
  });
}

export async function unmountFiles(bundle: string): Promise<void> {
  await unmount(filesDirOf(bundle));
}
