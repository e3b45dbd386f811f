// Cleanup of the `tss` cgroup parent our containers live under (cgroup v1 hierarchies or the v2 unified tree).
import { readdirSync, rmdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = '/sys/fs/cgroup';

/** '2' when `root` is the unified hierarchy (it has cgroup.controllers), '1' for per-controller hierarchies. */
export function cgroupVersion(root = ROOT): '1' | '2' {
  return existsSync(join(root, 'cgroup.controllers')) ? '2' : '1';
}

/** Directories that hold (or would hold) cgroup `name` in every mounted hierarchy. */
export function cgroupDirs(name: string): string[] {
  if (cgroupVersion() === '2') return [join(ROOT, name)];
  return readdirSync(ROOT)
    .map((c) => join(ROOT, c, name))
    .filter((d) => existsSync(d));
}

/** Removes the `tss` parent cgroups when no container is left in them (rmdir fails on a busy one). */
export function removeIdleCgroupParent(parent = 'tss'): void {
  for (const dir of cgroupDirs(parent)) {
    try {
      rmdirSync(dir);
    } catch {
      // Still holds a container's cgroup: in use.
    }
  }
}
