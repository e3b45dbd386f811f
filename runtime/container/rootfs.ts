// A container's root filesystem: overlayfs of the image's unpacked layers (read-only) under the container's own
// upper/work directories in its bundle.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Internal } from '../../api/index.js';
import { resolveCommand, run, type RunError } from '../process/index.js';

export function rootfsOf(bundle: string): string {
  return join(bundle, 'rootfs');
}

/**
 * True when `path` is a mount point: it lives on another device than its parent (overlay and tmpfs, the only
 * mounts we make, always do). A stat each, where the mount table grows with every container on the node.
 */
export function isMounted(path: string): boolean {
  try {
    return statSync(path).dev !== statSync(dirname(path)).dev;
  } catch {
    return false;
  }
}

/**
 * busybox's mount and umount when busybox is there (scripts/setup installs it): statically linked, they start
 * in a fraction of util-linux's, which loads libmount, libblkid and libselinux for every call.
 */
function mountTool(which: 'mount' | 'umount'): [string, string[]] {
  const busybox = resolveCommand('busybox');
  return busybox ? [busybox, [which]] : [which, []];
}

/** `mount ARGS`; a failure is an Internal error saying what was being mounted, with mount's own words. */
export async function mount(args: string[], what: string): Promise<void> {
  const [cmd, pre] = mountTool('mount');
  try {
    await run(cmd, [...pre, ...args]);
  } catch (err) {
    throw new Internal(`mounting ${what}: ${(err as RunError).stderr?.trim() || String(err)}`);
  }
}

/** Unmounts `path` if it is mounted; a busy mount is detached lazily so the directory can go. */
export async function unmount(path: string): Promise<void> {
  if (!isMounted(path)) return;
  const [cmd, pre] = mountTool('umount');
  try {
    await run(cmd, [...pre, path]);
  } catch {
    await run(cmd, [...pre, '-l', path]).catch(() => undefined);
  }
}

/** Mounts the overlay root unless it already is (a daemon restart finds it mounted). */
export async function mountRootfs(bundle: string, layerDirs: string[]): Promise<string> {
  const rootfs = rootfsOf(bundle);
  if (isMounted(rootfs)) return rootfs;
  for (const d of ['upper', 'work', 'rootfs']) mkdirSync(join(bundle, d), { recursive: true });
  // overlayfs lists the topmost layer first; the store gives them lowest first.
  const lower = [...layerDirs].reverse().join(':');
  const opts = `lowerdir=${lower},upperdir=${join(bundle, 'upper')},workdir=${join(bundle, 'work')}`;
  await mount(['-t', 'overlay', 'overlay', '-o', opts, rootfs], 'the root filesystem');
  return rootfs;
}

export async function unmountRootfs(bundle: string): Promise<void> {
  await unmount(rootfsOf(bundle));
}
