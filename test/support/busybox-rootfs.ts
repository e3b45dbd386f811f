// The busybox root filesystem (built in deploy/, shared with the demo) and overlay mounts for runc tests.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
export { buildBusyboxRootfs } from '../../deploy/busybox-rootfs.js';

/** Mounts an overlayfs root over `image` in `bundle` (upper/, work/, rootfs/), as a container runtime would. */
export function mountOverlayRoot(image: string, bundle: string): string {
  for (const d of ['upper', 'work', 'rootfs']) mkdirSync(join(bundle, d), { recursive: true });
  const rootfs = join(bundle, 'rootfs');
  execFileSync('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${image},upperdir=${join(bundle, 'upper')},workdir=${join(bundle, 'work')}`,
    rootfs,
  ]);
  return rootfs;
}
