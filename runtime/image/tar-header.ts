// A minimal ustar/pax writer: just enough to hand GNU tar a directory entry that carries an xattr, which is how
// we set `trusted.overlay.opaque` without setfattr (not installed on Debian by default; Node has no setxattr).

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value.slice(0, length), offset, length, 'utf8');
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  field(buf, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

export function tarHeader(name: string, type: string, size: number, mode: number, uid = 0, gid = 0): Buffer {
  const h = Buffer.alloc(512);
  field(h, 0, 100, name);
  octal(h, 100, 8, mode & 0o7777);
  octal(h, 108, 8, uid);
  octal(h, 116, 8, gid);
  octal(h, 124, 12, size);
  octal(h, 136, 12, Math.floor(Date.now() / 1000));
  h.fill(' ', 148, 156);
  field(h, 156, 1, type);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len = String(len).length + body.length;
  return `${len}${body}`;
}

function padded(data: Buffer): Buffer {
  const pad = (512 - (data.length % 512)) % 512;
  return Buffer.concat([data, Buffer.alloc(pad)]);
}

/** A tar holding one directory entry "./" with the given xattrs (pax SCHILY.xattr records). */
export function directoryWithXattrs(
  xattrs: Record<string, string>,
  mode: number,
  uid: number,
  gid: number,
): Buffer {
  const pax = Buffer.from(
    Object.entries(xattrs)
      .map(([k, v]) => paxRecord(`SCHILY.xattr.${k}`, v))
      .join(''),
  );
  return Buffer.concat([
    tarHeader('./PaxHeaders/.', 'x', pax.length, 0o644),
    padded(pax),
    tarHeader('./', '5', 0, mode, uid, gid),
    Buffer.alloc(1024),
  ]);
}
