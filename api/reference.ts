// Image references as Docker's distribution/reference parses and normalises them.
import { InvalidArgument } from './errors.js';

export interface ImageReference {
  /** Registry host, e.g. "docker.io" or "127.0.0.1:5000". */
  domain: string;
  /** Repository path, e.g. "library/busybox". */
  path: string;
  tag?: string;
  digest?: string;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?$`,
);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$/;

export const DEFAULT_DOMAIN = 'docker.io';

/** Parses and normalises "busybox", "busybox:1.36", "127.0.0.1:5000/a/b@sha256:…". */
export function parseReference(text: string): ImageReference {
  if (!text || text.length > 255) throw new InvalidArgument(`invalid reference format: "${text}"`);
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest))
      throw new InvalidArgument(`invalid reference format: bad digest in "${text}"`);
  }
  let tag: string | undefined;
  const lastColon = rest.lastIndexOf(':');
  if (lastColon > rest.lastIndexOf('/')) {
    tag = rest.slice(lastColon + 1);
    rest = rest.slice(0, lastColon);
    if (!TAG_RE.test(tag)) throw new InvalidArgument(`invalid reference format: bad tag in "${text}"`);
  }
  const slash = rest.indexOf('/');
  let domain = DEFAULT_DOMAIN;
  let path = rest;
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === 'index.docker.io') domain = DEFAULT_DOMAIN;
  if (!DOMAIN_RE.test(domain))
    throw new InvalidArgument(`invalid reference format: bad registry in "${text}"`);
  if (domain === DEFAULT_DOMAIN && !path.includes('/')) path = `library/${path}`;
  for (const c of path.split('/')) {
    if (!PATH_COMPONENT_RE.test(c)) {
      if (c.toLowerCase() !== c && PATH_COMPONENT_RE.test(c.toLowerCase())) {
        throw new InvalidArgument(`invalid reference format: repository name (${path}) must be lowercase`);
      }
      throw new InvalidArgument(`invalid reference format: "${text}"`);
    }
  }
  if (!tag && !digest) tag = 'latest';
  return { domain, path, tag, digest };
}

/** The repository as Docker shows it ("busybox", "127.0.0.1:5000/x"). */
export function familiarName(ref: ImageReference): string {
  if (ref.domain === DEFAULT_DOMAIN) {
    return ref.path.startsWith('library/') ? ref.path.slice('library/'.length) : ref.path;
  }
  return `${ref.domain}/${ref.path}`;
}

/** "busybox:latest", "127.0.0.1:5000/x@sha256:…". */
export function familiarString(ref: ImageReference): string {
  let s = familiarName(ref);
  if (ref.tag) s += `:${ref.tag}`;
  if (ref.digest) s += `@${ref.digest}`;
  return s;
}
