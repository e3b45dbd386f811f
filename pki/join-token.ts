// Join tokens: SWMTKN-1-<root CA digest, base36, 50 chars>-<secret, 25 base36 chars>, as Swarm's.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { PermissionDenied } from '../api/index.js';

export const TOKEN_PREFIX = 'SWMTKN';
export const TOKEN_VERSION = '1';
const DIGEST_LEN = 50;
const SECRET_LEN = 25;
const BASE36 = /^[0-9a-z]+$/;

function base36(buf: Buffer, width: number): string {
  return BigInt('0x' + buf.toString('hex'))
    .toString(36)
    .padStart(width, '0');
}

export interface ParsedToken {
  /** The pinned root CA digest (sha256 of its DER), as bytes. */
  caDigest: Buffer;
  secret: string;
}

export function newJoinToken(rootCaDigest: Buffer, random: (n: number) => Buffer = randomBytes): string {
  return `${TOKEN_PREFIX}-${TOKEN_VERSION}-${base36(rootCaDigest, DIGEST_LEN)}-${base36(random(16), SECRET_LEN)}`;
}

function invalid(why: string): never {
  throw new PermissionDenied(`invalid join token: ${why}`);
}

/** Parses a token, failing with "invalid join token: <why>". */
export function parseJoinToken(token: unknown): ParsedToken {
  if (typeof token !== 'string' || token === '') invalid('empty');
  const parts = token.split('-');
  if (parts[0] !== TOKEN_PREFIX) invalid(`must start with ${TOKEN_PREFIX}-${TOKEN_VERSION}-`);
  if (parts.length !== 4) invalid(`expected 4 dash-separated parts, got ${parts.length}`);
  if (parts[1] !== TOKEN_VERSION) invalid(`unsupported version ${parts[1]}`);
  const [, , digest, secret] = parts as [string, string, string, string];
  if (digest.length !== DIGEST_LEN)
    invalid(`CA digest has ${digest.length} characters, expected ${DIGEST_LEN}`);
  if (!BASE36.test(digest)) invalid('CA digest has characters outside [0-9a-z]');
  if (secret.length !== SECRET_LEN) invalid(`secret has ${secret.length} characters, expected ${SECRET_LEN}`);
  if (!BASE36.test(secret)) invalid('secret has characters outside [0-9a-z]');
  const n = BigInt([...digest].reduce((acc, c) => acc * 36n + BigInt(parseInt(c, 36)), 0n));
  const hex = n.toString(16).padStart(64, '0');
  if (hex.length > 64) invalid('CA digest is out of range');
  return { caDigest: Buffer.from(hex, 'hex'), secret };
}

/** Constant-time comparison of a presented token with the current one. */
export function tokensEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
