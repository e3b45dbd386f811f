// Placement constraints ("node.labels.zone==east") parsed and matched as Swarm does.
import { InvalidArgument, type Node } from '../api/index.js';

const KEY_RE = /^[a-z_][a-z0-9\-_.]+$/i;
// Values may not contain operator characters (current or future ones such as <, >, ~).
const VALUE_RE = /^[a-z0-9:\-_\s.*()?+[\]\\^$|/]+$/i;
const OPERATORS = ['==', '!='] as const;

export interface Constraint {
  key: string;
  /** Lower-cased key, for case-insensitive matching of the fixed keys. */
  lkey: string;
  equal: boolean;
  value: string;
}

/** Parses constraint expressions; a malformed one is an InvalidArgument quoting it. */
export function parseConstraints(exprs: readonly string[]): Constraint[] {
  return exprs.map((e) => {
    const op = OPERATORS.find((o) => e.includes(o));
    if (!op)
      throw new InvalidArgument(
        `invalid constraint "${e}": constraint expected one operator from ${OPERATORS.join(', ')}`,
      );
    const at = e.indexOf(op);
    const key = e.slice(0, at).trim();
    const value = e.slice(at + op.length).trim();
    if (!KEY_RE.test(key)) throw new InvalidArgument(`invalid constraint "${e}": key '${key}' is invalid`);
    if (!VALUE_RE.test(value))
      throw new InvalidArgument(`invalid constraint "${e}": value '${value}' is invalid`);
    return { key, lkey: key.toLowerCase(), equal: op === '==', value };
  });
}

function ipv4ToInt(ip: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** node.ip against an address or a CIDR (IPv4); a malformed address never matches, as Swarm. */
function matchIp(c: Constraint, nodeAddr: string): boolean {
  const node = ipv4ToInt(nodeAddr);
  const [net, bits] = c.value.split('/');
  const base = ipv4ToInt(net!);
  if (base === undefined || node === undefined) return false;
  const len = bits === undefined ? 32 : Number(bits);
  if (!Number.isInteger(len) || len < 0 || len > 32) return false;
  const mask = len === 0 ? 0 : (~0 << (32 - len)) >>> 0;
  const within = (node & mask) === (base & mask);
  return within === c.equal;
}

function matchValue(c: Constraint, actual: string | undefined): boolean {
  const same = (actual ?? '').toLowerCase() === c.value.toLowerCase();
  return same === c.equal;
}

const NODE_LABEL = 'node.labels.';
const ENGINE_LABEL = 'engine.labels.';

/** True when `node` satisfies every constraint. Unknown keys never match (Swarm's behaviour). */
export function nodeMatches(constraints: readonly Constraint[], node: Node): boolean {
  for (const c of constraints) {
    let ok: boolean;
    switch (c.lkey) {
      case 'node.id':
        ok = matchValue(c, node.ID);
        break;
      case 'node.hostname':
        ok = matchValue(c, node.Description?.Hostname);
        break;
      case 'node.role':
        ok = matchValue(c, node.Spec.Role);
        break;
      case 'node.platform.os':
        ok = matchValue(c, node.Description?.Platform?.OS);
        break;
      case 'node.platform.arch':
        ok = matchValue(c, node.Description?.Platform?.Architecture);
        break;
      case 'node.ip':
        ok = matchIp(c, node.Status.Addr);
        break;
      default:
        if (c.lkey.startsWith(NODE_LABEL) && c.key.length > NODE_LABEL.length) {
          // Label names themselves are case sensitive.
          ok = matchValue(c, node.Spec.Labels?.[c.key.slice(NODE_LABEL.length)]);
        } else if (c.lkey.startsWith(ENGINE_LABEL) && c.key.length > ENGINE_LABEL.length) {
          ok = matchValue(c, node.Description?.Engine?.Labels?.[c.key.slice(ENGINE_LABEL.length)]);
        } else ok = false;
    }
    if (!ok) return false;
  }
  return true;
}
