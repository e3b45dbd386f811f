// IPv4 addresses as unsigned 32-bit numbers, and CIDR blocks over them (the allocator's IPAM, the overlay data
// plane, the CLI).
import { InvalidArgument } from './errors.js';

export interface Cidr {
  /** Network address (host bits zero). */
  base: number;
  bits: number;
}

export function parseIPv4(text: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export const cidrSize = (c: Cidr): number => 2 ** (32 - c.bits);
export const cidrLast = (c: Cidr): number => c.base + cidrSize(c) - 1;
export const formatCidr = (c: Cidr): string => `${formatIPv4(c.base)}/${c.bits}`;

function maskOf(bits: number): number {
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** "a.b.c.d/n" → the address and prefix length as written (host bits kept), or undefined. */
export function splitCidr(text: string): { ip: number; bits: number } | undefined {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(text.trim());
  if (!m) return undefined;
  const ip = parseIPv4(m[1]!);
  const bits = Number(m[2]);
  if (ip === undefined || bits > 32) return undefined;
  return { ip, bits };
}

/** A CIDR block; `strict` refuses host bits (Docker: "it should be 198.19.5.0/24"). */
export function parseCidr(text: string, what = 'subnet', strict = true): Cidr {
  const s = splitCidr(text);
  if (!s) throw new InvalidArgument(`invalid ${what} ${text}: not an IPv4 CIDR address`);
  const base = (s.ip & maskOf(s.bits)) >>> 0;
  if (strict && base !== s.ip)
    throw new InvalidArgument(`invalid ${what} ${text}: it should be ${formatIPv4(base)}/${s.bits}`);
  return { base, bits: s.bits };
}

export function cidrContains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip <= cidrLast(c);
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.base <= cidrLast(b) && b.base <= cidrLast(a);
}
