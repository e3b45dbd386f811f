// A container's root filesystem: overlayfs of the image's unpacked layers (read-only) under the container's own
// upper/work directories in its bundle.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Internal } from '../../api/index.js';
import { run } from '../process/index.js';

export function rootfsOf(bundle: string): string {
  return join(bundle, 'rootfs');
}

export function isMounted(path: string): boolean {
  const escaped = path.replace(/ /g, '\\040');
  return readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[1] === escaped);
}

/** Mounts the overlay root unless it already is (a daemon restart finds it mounted). */
export async function mountRootfs(bundle: string, layerDirs: string[]): Promise<string> {
  const rootfs = rootfsOf(bundle);
  if (isMounted(rootfs)) return rootfs;
  for (const d of ['upper', 'work', 'rootfs']) mkdirSync(join(bundle, d), { recursive: true });
  // overlayfs lists the topmost layer first; the store gives them lowest first.
  const lower = [...layerDirs].reverse().join(':');
  const opts = `lowerdir=${lower},upperdir=${join(bundle, 'upper')},workdir=${join(bundle, 'work')}`;
  try {
    await run('mount', ['-t', 'overlay', 'overlay', '-o', opts, rootfs]);
  } catch (err) {
    throw new Internal(
      `mounting the root filesystem: ${(err as { stderr?: string }).stderr?.trim() || String(err)}`,
    );
  }
  return rootfs;
}

export async function unmountRootfs(bundle: string): Promise<void> {
  const rootfs = rootfsOf(bundle);
  if (!isMounted(rootfs)) return;
  try {
    await run('umount', [rootfs]);
  } catch {
    // Busy (a process still holds it): detach it lazily so the directory can go.
    await run('umount', ['-l', rootfs]).catch(() => undefined);
  }
}
