// A busybox root filesystem from Debian's busybox-static (the binary, a link per applet, minimal /etc files):
// the image the demo and the tests run, with no registry and no network.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function buildBusyboxRootfs(dir: string): string {
  for (const d of ['bin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'root', 'home/nobody', 'var/www'])
    mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  copyFileSync('/bin/busybox', join(dir, 'bin/busybox'));
  chmodSync(join(dir, 'bin/busybox'), 0o755);
  const applets = execFileSync('/bin/busybox', ['--list'], { encoding: 'utf8' })
    .split('\n')
    .filter((a) => a && a !== 'busybox');
  for (const a of applets) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(
    join(dir, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home/nobody:/bin/false\napp:x:1000:1000:app:/home/app:/bin/sh\n',
  );
  writeFileSync(join(dir, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\napp:x:1000:\nextra:x:2000:app\n');
  return dir;
}

/** `dir`'s rootfs as a tar for `tsswarm image import` / `docker import`; returns the tar's path. */
export function busyboxRootfsTar(dir: string): string {
  const rootfs = buildBusyboxRootfs(join(dir, 'rootfs'));
  const tar = join(dir, 'busybox.tar');
  execFileSync('tar', ['--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', tar, '.']);
  return tar;
}
