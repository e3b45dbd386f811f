// Converts OCI/Docker whiteouts left by a plain tar extraction into overlayfs form:
//   `.wh.<name>`      → a 0/0 character device named <name> (overlayfs hides the lower entry)
//   `.wh..wh..opq`    → `trusted.overlay.opaque=y` on the containing directory (lower contents hidden)
// mknod comes from coreutils; the xattr is set by GNU tar extracting a one-entry pax archive (see tar-header.ts).
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './fs-util.js';
import { directoryWithXattrs } from './tar-header.js';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE = '.wh..wh..opq';

export async function convertWhiteouts(dir: string): Promise<{ whiteouts: number; opaque: number }> {
  const counts = { whiteouts: 0, opaque: 0 };
  await walk(dir, counts);
  return counts;
}

async function walk(dir: string, counts: { whiteouts: number; opaque: number }): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const path = join(dir, e.name);
    if (e.name === OPAQUE) {
      await rm(path, { force: true });
      await markOpaque(dir);
      counts.opaque++;
    } else if (e.name.startsWith(WHITEOUT_PREFIX)) {
      await rm(path, { force: true });
      await run('mknod', ['-m', '0', join(dir, e.name.slice(WHITEOUT_PREFIX.length)), 'c', '0', '0']);
      counts.whiteouts++;
    } else if (e.isDirectory()) {
      await walk(path, counts);
    }
  }
}

async function markOpaque(dir: string): Promise<void> {
  const st = await lstat(dir);
  const archive = directoryWithXattrs({ 'trusted.overlay.opaque': 'y' }, st.mode, st.uid, st.gid);
  await run(
    'tar',
    [
      '-x',
      '--xattrs',
      '--xattrs-include=trusted.*',
      '--numeric-owner',
      '--same-permissions',
      '-C',
      dir,
      '-f',
      '-',
    ],
    archive,
  );
}
