// Resolving "user[:group]" against a rootfs's /etc/passwd and /etc/group, as Docker does.
import { InvalidArgument } from '../../api/index.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export function parsePasswd(text: string): PasswdEntry[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 4 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]) }))
    .filter((e) => Number.isInteger(e.uid) && Number.isInteger(e.gid));
}

export function parseGroup(text: string): { name: string; gid: number; members: string[] }[] {
  return text
    .split('\n')
    .map((l) => l.split(':'))
    .filter((f) => f.length >= 3 && f[0] && !f[0].startsWith('#'))
    .map((f) => ({ name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').filter(Boolean) }));
}

export function resolveUser(
  spec: string | undefined,
  passwd: string,
  group: string,
  extraGroups: string[] = [],
): ResolvedUser {
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  const [u = '', g] = (spec ?? '').split(':');
  let uid = 0;
  let gid = 0;
  let name = 'root';
  if (u !== '') {
    const byName = users.find((x) => x.name === u);
    if (byName) {
      uid = byName.uid;
      gid = byName.gid;
      name = byName.name;
    } else if (/^\d+$/.test(u)) {
      uid = Number(u);
      const byUid = users.find((x) => x.uid === uid);
      gid = byUid?.gid ?? 0;
      name = byUid?.name ?? '';
    } else throw new InvalidArgument(`unable to find user ${u}: no matching entries in passwd file`);
  }
  const groupId = (ref: string): number => {
    const byName = groups.find((x) => x.name === ref);
    if (byName) return byName.gid;
    if (/^\d+$/.test(ref)) return Number(ref);
    throw new InvalidArgument(`unable to find group ${ref}: no matching entries in group file`);
  };
  if (g !== undefined && g !== '') gid = groupId(g);
  const additionalGids = [
    ...new Set([
      ...groups.filter((x) => name && x.members.includes(name)).map((x) => x.gid),
      ...extraGroups.map(groupId),
    ]),
  ];
  return { uid, gid, additionalGids };
}
